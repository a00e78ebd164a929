// verisum's page. Every piece of text from a request or a result enters the page through
// textContent / createTextNode, never as HTML: an article may contain <script> and must
// show as text.
//
// Offsets in verisum's results are Python string indices (Unicode code points). JavaScript
// strings index UTF-16 code units, so a character outside the Basic Multilingual Plane (an
// emoji, say) counts 1 in Python and 2 here; codePointIndex() converts.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  // -- offsets ----------------------------------------------------------------------------
  // units[i] = UTF-16 index of code point i; units[n] = text.length.
  function codePointIndex(text) {
    const units = [0];
    let u = 0;
    for (const ch of text) {  // iterates by code point
      u += ch.length;
      units.push(u);
    }
    return units;
  }

  function slicer(text) {
    const units = codePointIndex(text);
    const n = units.length - 1;
    const at = (cp) => units[Math.max(0, Math.min(n, cp))];
    return {
      unit: at,
      slice: (start, end) => text.slice(at(start), at(end)),
    };
  }

  // -- state ------------------------------------------------------------------------------
  let current = null;   // the CheckResultModel on display
  let selected = -1;    // index of the selected summary sentence
  let fixes = null;     // the FixResultModel whose edits are on display

  function setStatus(message, isError) {
    const status = $("status");
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // -- talking to the API -----------------------------------------------------------------
  async function post(path, body) {
    const headers = { "Content-Type": "application/json", "Accept": "application/json" };
    const token = $("token").value;
    if (token) headers["Authorization"] = "Bearer " + token;
    let response;
    try {
      response = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
    } catch (err) {
      throw new Error("the server cannot be reached: " + err.message);
    }
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      throw new Error("the server answered " + response.status + " without JSON");
    }
    if (!response.ok) {
      if (response.status === 401) {
        $("token-field").hidden = false;
        $("token").focus();
      }
      const message = data && typeof data.error === "string" ? data.error : "HTTP " + response.status;
      throw new Error(message);
    }
    return data;
  }

  function summaryValue() {
    const text = $("summary").value;
    return text.trim() ? text : null;
  }

  // The article in the form, or null (and a prompt) when there is none.
  function article() {
    const doc = $("doc").value;
    if (doc.trim()) return doc;
    setStatus("Paste or open an article first.", true);
    $("doc").focus();
    return null;
  }

  // The body of a check or fix request: the article, and the summary when one is given.
  function summaryRequest() {
    const doc = article();
    if (doc === null) return null;
    const body = { doc };
    const summary = summaryValue();
    if (summary !== null) body.summary = summary;
    return body;
  }

  async function runCheck(event) {
    if (event) event.preventDefault();
    const body = summaryRequest();
    if (body === null) return;
    await busy("Checking…", async () => {
      const result = await post("/v1/check", body);
      show(result, null);
      setStatus("Checked " + result.sentences.length + " summary sentence(s) in " + seconds(result) + ".");
    });
  }

  async function runHighlights() {
    const doc = article();
    if (doc === null) return;
    const n = parseInt($("n").value, 10) || 3;
    await busy("Writing highlights…", async () => {
      const result = await post("/v1/highlights", { doc, n });
      $("summary").value = result.highlights.map((h) => "- " + h).join("\n");
      if (!result.check) {  // no candidate passed: nothing to show but what was dropped
        showDroppedOnly(result.dropped);
        setStatus("No highlight passed the checker; see the dropped candidates.", true);
        return;
      }
      show(result.check, result.dropped);
      setStatus("Wrote " + result.highlights.length + " highlight(s); each passed the checker.");
    });
  }

  async function runFix() {
    const body = summaryRequest();
    if (body === null) return;
    await busy("Looking for fixes…", async () => {
      const result = await post("/v1/fix", body);
      show(result.check, null);
      renderFixes(result);
      const n = result.edits.length;
      setStatus(n ? "Suggested " + n + " edit(s); each was checked again." : "Nothing to fix: every sentence is supported.");
    });
  }

  // The summary with one edit applied (offsets are code points into fixes.summary); a bullet
  // line left empty by a deletion goes too.
  function applyEdit(summary, edit) {
    const s = slicer(summary);
    const total = codePointIndex(summary).length - 1;
    const text = s.slice(0, edit.sentence.start) + edit.after + s.slice(edit.sentence.end, total);
    return text.split("\n").filter((line) => !/^\s*(?:[-*•]\s*)?$/.test(line) || !line.length).join("\n")
      .replace(/\n{3,}/g, "\n\n");
  }

  async function accept(text) {
    if (!fixes) return;
    // The seed form (summary lines at the end of the article) becomes article + summary.
    $("doc").value = fixes.source;
    $("summary").value = text;
    fixes = null;
    $("fixes-box").hidden = true;
    await runCheck(null);
  }

  function renderFixes(result) {
    fixes = result;
    const list = $("fixes");
    list.textContent = "";
    result.edits.forEach((edit, index) => {
      const item = el("li", "fix fix-" + edit.kind);
      item.dataset.index = String(index);
      const head = el("p", "fix-head");
      head.append(el("strong", null, edit.kind.replace("_", " ")),
        " " + edit.score_before.toFixed(2) + (edit.score_after === null ? "" : " → " + edit.score_after.toFixed(2)));
      item.append(head);
      item.append(el("del", null, edit.before));
      item.append(edit.after ? el("ins", null, edit.after) : el("ins", "deleted", "(delete this sentence)"));
      item.append(el("p", "reason", edit.reason));
      if (edit.evidence.length) {
        const quotes = el("ul", "evidence-list");
        for (const ev of edit.evidence) {
          const q = el("li");
          q.append("source[" + ev.start + ":" + ev.end + "] ", el("q", null, ev.text));
          quotes.append(q);
        }
        item.append(quotes);
      }
      const button = el("button", "accept", "Accept");
      button.type = "button";
      button.addEventListener("click", () => accept(applyEdit(result.summary, edit)));
      item.append(button);
      list.append(item);
    });
    $("accept-all").hidden = result.edits.length < 2;
    $("fixes-box").hidden = result.edits.length === 0;
  }

  async function busy(message, work) {
    const buttons = [$("check"), $("write"), $("suggest"), $("accept-all")];
    buttons.forEach((b) => { b.disabled = true; });
    setStatus(message);
    try {
      await work();
    } catch (err) {
      setStatus("Error: " + err.message, true);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  function seconds(result) {
    const s = result.meta && typeof result.meta.seconds === "number" ? result.meta.seconds : null;
    return s === null ? "a moment" : s.toFixed(2) + " s";
  }

  // -- rendering --------------------------------------------------------------------------
  function show(result, dropped) {
    current = result;
    selected = -1;
    $("results").hidden = false;

    const verdict = $("verdict");
    verdict.textContent = "";
    verdict.append(
      "Summary: ",
      el("strong", "chip label-" + result.label, result.label),
      " — score " + result.score.toFixed(2) + " (threshold " + result.threshold.toFixed(2) + ")"
    );
    if (result.meta && result.meta.source_kind === "transcript") {
      // The terminal and HTML views' note, shorter (verisum.render.SOURCE_NOTES).
      verdict.append(el("span", "note",
        " Note: the article reads as a transcript or chat; the judge was trained on prose and flags " +
        "most faithful summaries of such sources."));
    }

    renderSummary();
    renderArticle([]);
    $("detail").textContent = "";

    renderDropped(dropped);
    fixes = null;
    $("fixes-box").hidden = true;
    revealResults();
  }

  // On a narrow screen the form fills the viewport: bring the result into view.
  function revealResults() {
    const box = $("results");
    const top = box.getBoundingClientRect().top;
    if (box.scrollIntoView && top > window.innerHeight * 0.6) box.scrollIntoView({ block: "start" });
  }

  function showDroppedOnly(dropped) {
    current = null;
    $("results").hidden = false;
    $("verdict").textContent = "No highlights.";
    $("summary-view").textContent = "";
    $("article-view").textContent = "";
    $("detail").textContent = "";
    renderDropped(dropped);
  }

  function renderDropped(dropped) {
    const box = $("dropped-box");
    const list = $("dropped");
    list.textContent = "";
    if (dropped && dropped.length) {
      for (const d of dropped) {
        const item = el("li");
        item.append(el("q", null, d.text), " — " + d.reason);
        list.append(item);
      }
      box.hidden = false;
    } else {
      box.hidden = true;
    }
  }

  function sentenceFaults(sentence) {
    const seen = new Map();
    for (const claim of sentence.claims) {
      for (const f of claim.faults) seen.set(f.start + ":" + f.end, f);
    }
    return Array.from(seen.values()).sort((a, b) => a.start - b.start || a.end - b.end);
  }

  function renderSummary() {
    const view = $("summary-view");
    view.textContent = "";
    const text = current.summary;
    const s = slicer(text);
    const total = codePointIndex(text).length - 1;
    let pos = 0;
    current.sentences.forEach((sentence, index) => {
      if (sentence.start > pos) view.append(document.createTextNode(s.slice(pos, sentence.start)));
      const span = el("span", "sentence label-" + sentence.label);
      span.tabIndex = 0;
      span.setAttribute("role", "button");
      span.setAttribute("aria-pressed", "false");
      span.dataset.index = String(index);
      span.dataset.label = sentence.label;
      span.title = sentence.label + ", score " + sentence.score.toFixed(2);
      // Faults, merged and clipped to the sentence, underlined inside it.
      let at = sentence.start;
      for (const f of sentenceFaults(sentence)) {
        const start = Math.max(f.start, at);
        const end = Math.min(f.end, sentence.end);
        if (end <= start) continue;
        if (start > at) span.append(document.createTextNode(s.slice(at, start)));
        span.append(el("u", "fault", s.slice(start, end)));
        at = end;
      }
      if (sentence.end > at) span.append(document.createTextNode(s.slice(at, sentence.end)));
      const badge = el("span", "badge", sentence.label + " " + sentence.score.toFixed(2));
      badge.setAttribute("aria-hidden", "true");
      span.append(badge);
      view.append(span);
      pos = sentence.end;
    });
    if (pos < total) view.append(document.createTextNode(s.slice(pos, total)));
  }

  function sentenceEvidence(sentence) {
    const best = new Map();
    for (const claim of sentence.claims) {
      for (const ev of claim.evidence) {
        const key = ev.start + ":" + ev.end;
        if (!best.has(key) || ev.score > best.get(key).score) best.set(key, ev);
      }
    }
    return Array.from(best.values()).sort((a, b) => a.start - b.start);
  }

  function renderArticle(evidence) {
    const view = $("article-view");
    view.textContent = "";
    const text = current.source;
    const s = slicer(text);
    const total = codePointIndex(text).length - 1;
    let pos = 0;
    let first = null;
    for (const ev of evidence) {
      const start = Math.max(ev.start, pos);
      if (ev.end <= start) continue;
      if (start > pos) view.append(document.createTextNode(s.slice(pos, start)));
      const mark = el("mark", "evidence", s.slice(start, ev.end));
      mark.title = "evidence, retrieval score " + ev.score.toFixed(2);
      view.append(mark);
      if (!first) first = mark;
      pos = ev.end;
    }
    if (pos < total) view.append(document.createTextNode(s.slice(pos, total)));
    return first;
  }

  function select(index) {
    if (!current || index < 0 || index >= current.sentences.length) return;
    selected = index;
    for (const node of document.querySelectorAll("#summary-view .sentence")) {
      const on = Number(node.dataset.index) === index;
      node.classList.toggle("selected", on);
      node.setAttribute("aria-pressed", on ? "true" : "false");
    }
    const sentence = current.sentences[index];
    const first = renderArticle(sentenceEvidence(sentence));
    renderDetail(sentence);
    if (first && first.scrollIntoView) first.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  function renderDetail(sentence) {
    const detail = $("detail");
    detail.textContent = "";
    const head = el("p", "detail-head");
    head.append(
      el("strong", "chip label-" + sentence.label, sentence.label),
      " score ",
      el("span", "score", sentence.score.toFixed(2))
    );
    detail.append(head);
    const list = el("ul", "claims");
    sentence.claims.forEach((claim, index) => {
      const item = el("li", "claim");
      item.tabIndex = 0;
      item.setAttribute("role", "button");
      item.dataset.claim = String(index);
      item.append(
        el("span", "chip label-" + claim.label, claim.label),
        " ",
        el("span", "claim-score", claim.score.toFixed(2)),
        " ",
        el("q", null, claim.text)
      );
      if (claim.faults.length) {
        item.append(" — at fault: " + claim.faults.map((f) => "“" + f.text + "”").join(", "));
      }
      if (claim.rationale) item.append(" — " + claim.rationale);
      // The claim's own evidence: the premise behind its verdict first, each with its score.
      const quotes = el("ul", "evidence-list");
      for (const ev of claim.evidence) {
        const q = el("li", "claim-evidence");
        q.append(el("span", "evidence-score", ev.score.toFixed(2)), " source[" + ev.start + ":" + ev.end + "] ",
          el("q", null, ev.text));
        quotes.append(q);
      }
      item.append(quotes);
      const pick = () => {
        for (const node of detail.querySelectorAll(".claim")) node.classList.toggle("selected", node === item);
        const first = renderArticle(claim.evidence.slice().sort((a, b) => a.start - b.start));
        if (first && first.scrollIntoView) first.scrollIntoView({ block: "nearest", behavior: "smooth" });
      };
      item.addEventListener("click", pick);
      item.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(); }
      });
      list.append(item);
    });
    detail.append(list);
    if (!sentenceEvidence(sentence).length) detail.append(el("p", null, "No evidence found in the article."));
  }

  // -- files ------------------------------------------------------------------------------
  function readInto(input, target) {
    const file = input.files && input.files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => {
      let text = String(reader.result);
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);  // as verisum's readers do
      $(target).value = text;
      setStatus("Opened " + file.name + ".");
    };
    reader.onerror = () => setStatus("Cannot read " + file.name + ".", true);
    reader.readAsText(file, "utf-8");
  }

  // -- wiring -----------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    $("input-form").addEventListener("submit", runCheck);
    $("write").addEventListener("click", runHighlights);
    $("suggest").addEventListener("click", runFix);
    $("accept-all").addEventListener("click", () => fixes && accept(fixes.fixed));
    $("doc-file").addEventListener("change", (e) => readInto(e.target, "doc"));
    $("summary-file").addEventListener("change", (e) => readInto(e.target, "summary"));
    const view = $("summary-view");
    view.addEventListener("click", (e) => {
      const node = e.target.closest(".sentence");
      if (node) select(Number(node.dataset.index));
    });
    view.addEventListener("keydown", (e) => {
      const node = e.target.closest(".sentence");
      if (!node) return;
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        select(Number(node.dataset.index));
      }
    });
  });

  // For tests and the curious: the offset conversion, exposed read-only.
  window.verisumPage = Object.freeze({ codePointIndex });
})();
