"""The web page in a real browser: headless Debian Chromium driven by playwright-python.

The server runs in a thread on a free loopback port; the page is opened, an article checked,
and what the page shows is compared with what the API returned. Screenshots land in
artifacts/ (git-ignored) as the test's artefacts.

Needs /usr/bin/chromium (Debian package ``chromium``) and ``pip install playwright``; the tests
skip, saying which is missing, otherwise. ``playwright install`` is never needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

pytest.importorskip("fastapi", reason="the [serve] extra is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the [serve] extra is not installed")
pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

pytestmark = pytest.mark.browser

from support.live_server import LiveServer  # noqa: E402
from verisum.server.app import create_app  # noqa: E402
from verisum.server.settings import ServerSettings  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

ARTICLE = (
    "Putin meets Erdogan in Astana\n"
    "Russian President Vladimir Putin met Turkish President Recep Tayyip Erdogan in Astana on Wednesday. "
    "The two leaders discussed grain exports and a gas hub in Turkey. "
    "The Shanghai Cooperation Organization summit opens in Astana on Thursday.\n"
    "Kazakhstan currently holds the rotating chairmanship of the organization."
)
SUPPORTED = "Putin met Erdogan in Astana on Wednesday."
INVENTED = "Bananas will cost forty dollars on Mars next spring."
NEGATED = "The summit will not open in Astana on Thursday."


# -- fixtures ----------------------------------------------------------------------------
@pytest.fixture
def page_for(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """``page_for(app)`` -> (page, base_url, dialogs): the app served live, a fresh page on it."""
    opened: list[tuple[Any, LiveServer]] = []

    def open_page(app: Any, *, width: int = 1280, height: int = 900) -> tuple[Any, str, list[str]]:
        server = LiveServer(app).__enter__()
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        dialogs: list[str] = []

        def on_dialog(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        opened.append((context, server))
        page.goto(server.url + "/")
        return page, server.url, dialogs

    yield open_page
    for context, server in opened:
        context.close()
        server.__exit__(None, None, None)


def _screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _check(page: Any, doc: str, summary: str | None) -> dict[str, Any]:
    """Fill the form, press Check, and return the JSON the page received."""
    page.fill("#doc", doc)
    page.fill("#summary", summary or "")
    with page.expect_response(lambda r: r.url.endswith("/v1/check")) as info:
        page.click("#check")
    response = info.value
    body = response.json()
    assert response.status == 200, body
    page.wait_for_selector("#summary-view .sentence")
    return body


def _bg(page: Any, selector: str) -> str:
    return page.eval_on_selector(selector, "e => getComputedStyle(e).backgroundColor")


def _css_colour(page: Any, label: str) -> str:
    """The computed background of the legend chip for ``label``: what the page calls that colour."""
    return _bg(page, f".legend .label-{label}")


def _assert_page_matches(page: Any, result: dict[str, Any]) -> None:
    sentences = page.query_selector_all("#summary-view .sentence")
    assert len(sentences) == len(result["sentences"])
    colours = {lab: _css_colour(page, lab) for lab in ("supported", "unsupported", "contradicted")}
    assert len(set(colours.values())) == 3, colours  # three distinct colours
    for node, sent in zip(sentences, result["sentences"]):
        assert node.get_attribute("data-label") == sent["label"]
        assert node.evaluate("e => getComputedStyle(e).backgroundColor") == colours[sent["label"]]
        shown = node.evaluate("e => Array.from(e.childNodes).filter(n => !(n.classList && n.classList.contains('badge'))).map(n => n.textContent).join('')")
        assert shown == sent["text"]
        faults = [u.inner_text() for u in node.query_selector_all("u.fault")]
        expected = sorted({(f["start"], f["end"], f["text"]) for c in sent["claims"] for f in c["faults"]})
        assert faults == [t for _, _, t in expected]


def _select(page: Any, index: int) -> list[str]:
    page.click(f"#summary-view .sentence[data-index='{index}']")
    return [m.inner_text() for m in page.query_selector_all("#article-view mark.evidence")]


def _evidence(result: dict[str, Any], index: int) -> list[str]:
    spans = {(e["start"], e["end"], e["text"]) for c in result["sentences"][index]["claims"] for e in c["evidence"]}
    return [t for _, _, t in sorted(spans)]


# -- tests -------------------------------------------------------------------------------
def test_browser_check_colours_faults_and_evidence(page_for: Callable[..., Any], fake_judge: Any) -> None:
    """Plumbing with the fake judge, which gives all three labels for these sentences."""
    page, _, dialogs = page_for(create_app(ServerSettings(), judge=fake_judge))
    result = _check(page, ARTICLE, "\n".join(f"- {s}" for s in (SUPPORTED, INVENTED, NEGATED)))
    assert [s["label"] for s in result["sentences"]] == ["supported", "unsupported", "contradicted"]
    _assert_page_matches(page, result)
    assert page.query_selector_all("#summary-view u.fault"), "the invented sentence has words at fault"

    marks = _select(page, 0)
    assert marks == _evidence(result, 0)
    assert any("Putin met Turkish President Recep Tayyip Erdogan in Astana on Wednesday" in m for m in marks)
    assert page.inner_text("#detail .score") == f"{result['sentences'][0]['score']:.2f}"
    assert page.get_attribute("#summary-view .sentence[data-index='0']", "aria-pressed") == "true"
    _screenshot(page, "browser-check")

    # Keyboard: Tab to the third sentence and press Enter.
    page.focus("#summary-view .sentence[data-index='1']")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.get_attribute("#summary-view .sentence[data-index='2']", "aria-pressed") == "true"
    assert [m.inner_text() for m in page.query_selector_all("#article-view mark.evidence")] == _evidence(result, 2)
    assert dialogs == []


def test_browser_check_with_the_embedded_model(page_for: Callable[..., Any], embedded_checker: Any) -> None:
    """The real default Checker: a copied sentence is supported, an invented one is not."""
    page, _, _ = page_for(create_app(ServerSettings(), checker=embedded_checker))
    result = _check(page, ARTICLE, f"- {SUPPORTED}\n- {INVENTED}")
    assert result["sentences"][0]["label"] == "supported"
    assert result["sentences"][1]["label"] != "supported"
    _assert_page_matches(page, result)
    marks = _select(page, 0)
    assert marks == _evidence(result, 0) and marks
    _screenshot(page, "browser-check-embedded")


def test_browser_says_when_the_article_reads_as_a_transcript(page_for: Callable[..., Any], fake_judge: Any) -> None:
    page, _, _ = page_for(create_app(ServerSettings(), judge=fake_judge))
    chat = "Ann: Buy some butter. . Mike: Ok. . Mike: Do we have any milk? . Ann: I will check. . Ann: There is some."
    result = _check(page, chat, "- Ann asks Mike to buy butter.")
    assert result["meta"]["source_kind"] == "transcript"
    assert "reads as a transcript or chat" in page.inner_text("#verdict .note")
    result = _check(page, ARTICLE, f"- {SUPPORTED}")
    assert "source_kind" not in result["meta"] and page.query_selector("#verdict .note") is None


def test_browser_markup_in_request_renders_as_text(page_for: Callable[..., Any], fake_judge: Any) -> None:
    page, _, dialogs = page_for(create_app(ServerSettings(), judge=fake_judge))
    hostile = (
        "Officials met on Monday. <script>alert(1)</script> The mayor spoke. "
        "<img src=x onerror=\"alert(2);window.__pwned=1\"> The council voted on the <b>budget</b>."
    )
    summary = "- The mayor spoke <img src=y onerror=alert(3)>.\n- <script>alert(4)</script> The council voted."
    result = _check(page, hostile, summary)
    _select(page, 0)
    _select(page, 1)
    page.wait_for_timeout(300)  # give any injected handler the chance to fire
    assert dialogs == []
    assert page.evaluate("window.__pwned") is None
    assert page.query_selector_all("img") == []
    assert page.query_selector_all("main script, main b") == []
    article = page.inner_text("#article-view")
    assert "<script>alert(1)</script>" in article
    assert '<img src=x onerror="alert(2);window.__pwned=1">' in article
    assert "<img src=y onerror=alert(3)>" in page.inner_text("#summary-view")
    assert result["source"] == hostile
    _screenshot(page, "browser-markup-as-text")


def test_browser_offsets_with_emoji(page_for: Callable[..., Any], fake_judge: Any) -> None:
    """Python offsets count an emoji as 1, JavaScript as 2: the page must convert."""
    page, _, _ = page_for(create_app(ServerSettings(top_k=1), judge=fake_judge))
    doc = "🎉🎉 Party 🇺🇦 time 👍🏽! The ministry approved the new bridge on Friday. Traffic resumed later 🚗."
    summary = "- 🎉 The ministry approved the new bridge on Friday.\n- 🚗 Zebras painted the bridge purple."
    result = _check(page, doc, summary)
    _assert_page_matches(page, result)
    assert _select(page, 0) == ["The ministry approved the new bridge on Friday."]
    codepoints = page.evaluate("t => window.verisumPage.codePointIndex(t)", "a🎉b")
    assert codepoints == [0, 1, 3, 4]
    faults = page.eval_on_selector_all("#summary-view .sentence[data-index='1'] u.fault", "us => us.map(u => u.textContent)")
    assert faults and all(f in "Zebras painted the bridge purple." for f in faults)


def test_browser_seed_form_and_phone_width(page_for: Callable[..., Any], fake_judge: Any, tmp_path: Path) -> None:
    page, _, _ = page_for(create_app(ServerSettings(), judge=fake_judge), width=375, height=800)
    seed = tmp_path / "seed.txt"
    seed.write_text(ARTICLE + f"\n- {SUPPORTED}\n- {INVENTED}\n", encoding="utf-8")
    page.set_input_files("#doc-file", str(seed))
    page.wait_for_function("document.getElementById('doc').value.length > 0")
    with page.expect_response(lambda r: r.url.endswith("/v1/check")) as info:
        page.click("#check")
    result = info.value.json()
    page.wait_for_selector("#summary-view .sentence")
    assert result["source"] == ARTICLE
    assert [s["text"] for s in result["sentences"]] == [SUPPORTED, INVENTED]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways at phone width ({width} px)"
    _screenshot(page, "browser-phone")


def test_browser_error_message_shown(page_for: Callable[..., Any], fake_judge: Any) -> None:
    page, _, _ = page_for(create_app(ServerSettings(max_summary_sentences=1), judge=fake_judge))
    page.fill("#doc", ARTICLE)
    page.fill("#summary", f"- {SUPPORTED}\n- {INVENTED}")
    page.click("#check")
    page.wait_for_selector("#status.error")
    assert "limit is 1" in page.inner_text("#status")


def test_browser_token_prompt(page_for: Callable[..., Any], fake_judge: Any) -> None:
    settings = ServerSettings(api_token="s3cret")
    page, _, _ = page_for(create_app(settings, judge=fake_judge))
    page.fill("#doc", ARTICLE)
    page.fill("#summary", f"- {SUPPORTED}")
    page.click("#check")
    page.wait_for_selector("#token-field:not([hidden])")
    page.fill("#token", "s3cret")
    page.click("#check")
    page.wait_for_selector("#summary-view .sentence")


@pytest.mark.parametrize("judge", ["fake", "embedded"])
def test_browser_write_highlights(page_for: Callable[..., Any], request: pytest.FixtureRequest, judge: str) -> None:
    if judge == "fake":
        app = create_app(ServerSettings(), judge=request.getfixturevalue("fake_judge"))
    else:
        app = create_app(ServerSettings(), checker=request.getfixturevalue("embedded_checker"))
    page, _, _ = page_for(app)
    page.fill("#doc", ARTICLE)
    page.fill("#n", "2")
    with page.expect_response(lambda r: r.url.endswith("/v1/highlights")) as info:
        page.click("#write")
    result = info.value.json()
    assert info.value.status == 200, result
    assert result["highlights"], f"no bullet passed the checker: {result['dropped']}"
    page.wait_for_selector("#summary-view .sentence")
    bullets = page.input_value("#summary").splitlines()
    assert bullets and bullets == [f"- {h}" for h in result["highlights"]]
    labels = [n.get_attribute("data-label") for n in page.query_selector_all("#summary-view .sentence")]
    assert labels and set(labels) == {"supported"}
    _screenshot(page, f"browser-highlights-{judge}")


def test_browser_write_highlights_when_none_pass(page_for: Callable[..., Any]) -> None:
    from verisum.judges import Judgement
    class Doubter:
        name = "doubter"

        def params(self) -> dict[str, Any]:
            return {}

        def judge(self, pairs: Any) -> list[Any]:
            return [Judgement(supported=0.01, contradicted=0.01, unsupported=0.98) for _ in pairs]

    # verbatim_shortcut off: the writer's candidates copy article sentences, which the shortcut
    # would pass without asking the judge.
    from verisum import Checker

    page, _, _ = page_for(create_app(ServerSettings(), checker=Checker(Doubter(), verbatim_shortcut=False)))
    page.fill("#doc", ARTICLE)
    with page.expect_response(lambda r: r.url.endswith("/v1/highlights")) as info:
        page.click("#write")
    result = info.value.json()
    assert result["check"] is None and result["dropped"]
    page.wait_for_selector("#status.error")
    assert "No highlight passed" in page.inner_text("#status")
    assert page.input_value("#summary") == ""
    items = page.eval_on_selector_all("#dropped li q", "qs => qs.map(q => q.textContent)")
    assert items == [d["text"] for d in result["dropped"]]


def test_browser_docs_page_lists_the_api(page_for: Callable[..., Any], fake_judge: Any) -> None:
    page, url, _ = page_for(create_app(ServerSettings(), judge=fake_judge))
    page.goto(url + "/docs")
    page.wait_for_selector(".op h2")
    titles = page.eval_on_selector_all(".op h2", "hs => hs.map(h => h.textContent)")
    assert "POST /v1/check" in titles and "POST /v1/highlights" in titles and "GET /health" in titles


def _suggest_accept_recheck(page: Any, doc: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Suggest fixes for ``doc`` (seed form), accept the first edit, return (fix, re-check)."""
    page.fill("#doc", doc)
    page.fill("#summary", "")
    with page.expect_response(lambda r: r.url.endswith("/v1/fix")) as info:
        page.click("#suggest")
    fix = info.value.json()
    assert info.value.status == 200, fix
    assert fix["edits"], "the example has sentences to fix"
    page.wait_for_selector("#fixes-box:not([hidden]) li.fix")
    items = page.query_selector_all("#fixes li.fix")
    assert len(items) == len(fix["edits"])
    for item, edit in zip(items, fix["edits"]):
        assert item.query_selector("del").inner_text() == edit["before"]
        shown = item.query_selector("ins").inner_text()
        assert shown == (edit["after"] or "(delete this sentence)")
    first = fix["edits"][0]
    with page.expect_response(lambda r: r.url.endswith("/v1/check")) as info:
        items[0].query_selector("button.accept").click()
    recheck = info.value.json()
    assert info.value.status == 200, recheck
    page.wait_for_selector("#fixes-box[hidden]", state="attached")
    summary = page.input_value("#summary")
    assert first["before"] not in summary and (first["after"] in summary if first["after"] else True)
    assert page.input_value("#doc") == fix["source"]
    assert recheck["summary"] == summary
    page.wait_for_selector("#summary-view .sentence")
    # the accepted sentence is now checked as the edit promised
    if first["after"]:
        sent = next(s for s in recheck["sentences"] if s["text"] == first["after"])
        assert sent["label"] == "supported"
    return fix, recheck


def test_browser_suggest_fixes_accept_one_and_recheck(page_for: Callable[..., Any], embedded_checker: Any) -> None:
    from verisum.resources import EXAMPLES_DIR

    page, _, dialogs = page_for(create_app(ServerSettings(), checker=embedded_checker))
    fix, recheck = _suggest_accept_recheck(page, (EXAMPLES_DIR / "article.txt").read_text(encoding="utf-8"))
    assert len(recheck["sentences"]) >= len(fix["check"]["sentences"]) - 1
    _screenshot(page, "browser-fix")
    assert dialogs == []


def test_browser_suggest_fixes_for_the_seed(page_for: Callable[..., Any], embedded_checker: Any, seed_path: Path) -> None:
    page, _, _ = page_for(create_app(ServerSettings(), checker=embedded_checker))
    _suggest_accept_recheck(page, seed_path.read_text(encoding="utf-8"))
    _screenshot(page, "browser-fix-seed")


def test_browser_claims_show_their_own_evidence(page_for: Callable[..., Any], embedded_checker: Any) -> None:
    """Each claim lists its own evidence with scores; selecting a claim marks only its evidence."""
    from verisum.io import split_seed
    from verisum.resources import EXAMPLES_DIR

    seed = split_seed((EXAMPLES_DIR / "article.txt").read_text(encoding="utf-8"))
    page, _, _ = page_for(create_app(ServerSettings(), checker=embedded_checker))
    result = _check(page, seed.source, seed.summary)
    index = next(i for i, s in enumerate(result["sentences"]) if len(s["claims"]) > 1)
    _select(page, index)
    claims = page.query_selector_all("#detail li.claim")
    sentence = result["sentences"][index]
    assert len(claims) == len(sentence["claims"])
    for node, claim in zip(claims, sentence["claims"]):
        scores = [e.inner_text() for e in node.query_selector_all(".evidence-score")]
        assert scores == [f"{e['score']:.2f}" for e in claim["evidence"]]
        assert node.query_selector(".claim-score").inner_text() == f"{claim['score']:.2f}"
        node.click()
        marks = [m.inner_text() for m in page.query_selector_all("#article-view mark.evidence")]
        assert marks == [e["text"] for e in sorted(claim["evidence"], key=lambda e: e["start"])]


def test_browser_result_scrolls_into_view_on_a_phone(page_for: Callable[..., Any], fake_judge: Any) -> None:
    page, _, _ = page_for(create_app(ServerSettings(), judge=fake_judge), width=375, height=700)
    _check(page, ARTICLE, f"- {SUPPORTED}\n- {INVENTED}")
    page.wait_for_function("document.getElementById('results').getBoundingClientRect().top < window.innerHeight")
    top = page.evaluate("document.getElementById('results').getBoundingClientRect().top")
    assert -2 <= top < 700 * 0.6  # scrolled to its start (sub-pixel rounding aside)
