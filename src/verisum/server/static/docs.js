// A small offline API reference built from /openapi.json (FastAPI's Swagger UI needs a CDN).
// All text goes in through textContent.
"use strict";

(function () {
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function resolve(spec, schema) {
    if (schema && schema.$ref) {
      const name = schema.$ref.split("/").pop();
      return [name, spec.components.schemas[name]];
    }
    return [null, schema];
  }

  function typeOf(schema) {
    if (!schema) return "any";
    if (schema.$ref) return schema.$ref.split("/").pop();
    if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
    if (schema.type === "array") return typeOf(schema.items) + "[]";
    if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
    if (schema.const !== undefined) return JSON.stringify(schema.const);
    return schema.type || "object";
  }

  function fields(spec, schema, seen) {
    const [name, body] = resolve(spec, schema);
    const box = el("div", "schema");
    if (name) box.append(el("h4", null, name));
    if (!body || !body.properties) return box;
    const list = el("dl");
    const required = new Set(body.required || []);
    for (const [field, sub] of Object.entries(body.properties)) {
      list.append(el("dt", null, field + (required.has(field) ? "" : "?") + ": " + typeOf(sub)));
      list.append(el("dd", null, sub.description || ""));
    }
    box.append(list);
    return box;
  }

  async function main() {
    const root = document.getElementById("api");
    let spec;
    try {
      spec = await (await fetch("/openapi.json")).json();
    } catch (err) {
      root.textContent = "Cannot load /openapi.json: " + err.message;
      return;
    }
    root.textContent = "";
    root.append(el("p", null, spec.info.description || ""));
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const section = el("section", "op");
        section.append(el("h2", null, method.toUpperCase() + " " + path));
        if (op.summary) section.append(el("p", null, op.summary));
        if (op.description) section.append(el("p", "muted", op.description));
        const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
        if (body) {
          section.append(el("h3", null, "Request body"));
          section.append(fields(spec, body.schema));
        }
        section.append(el("h3", null, "Responses"));
        const list = el("ul");
        for (const [code, resp] of Object.entries(op.responses || {})) {
          const schema = resp.content && resp.content["application/json"] && resp.content["application/json"].schema;
          list.append(el("li", null, code + " — " + (resp.description || "") + (schema ? " (" + typeOf(schema) + ")" : "")));
        }
        section.append(list);
        root.append(section);
      }
    }
  }

  document.addEventListener("DOMContentLoaded", main);
})();
