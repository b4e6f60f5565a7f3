// A markdownlint rule for VitePress's custom containers:
//
//   ::: tip Optional title
//
//   Markdown, with a blank line after the opening fence and before the closing one.
//
//   :::
//
// markdownlint itself reads a container's fences as plain paragraph text, so
// the blank lines inside keep its other rules (lists, headings, code blocks
// surrounded by blank lines) true of the content. This rule checks what it
// cannot see: the kind is one VitePress knows, every container is closed, and
// the fences have blank lines around them. Front matter is markdownlint's own
// (and .markdownlint.jsonc makes a front matter title no second heading).
"use strict";

const KINDS = new Set(["info", "tip", "warning", "danger", "details", "code-group", "raw", "v-pre"]);
const FENCE = /^\s*(`{3,}|~{3,})/;
const CONTAINER = /^\s*(:{3,})\s*(.*?)\s*$/;

module.exports = {
  names: ["xps-vitepress-container", "vitepress-container"],
  description: "VitePress containers: a known kind, closed, with blank lines around their fences",
  tags: ["vitepress"],
  parser: "none",
  function: (params, onError) => {
    const lines = params.lines;
    const open = [];
    let fence = null;
    const blank = (i) => i < 0 || i >= lines.length || lines[i].trim() === "";
    lines.forEach((line, i) => {
      const f = FENCE.exec(line);
      if (f && (fence === null || f[1].startsWith(fence))) fence = fence === null ? f[1] : null;
      if (fence !== null || (f && fence === null)) return;
      const m = CONTAINER.exec(line);
      if (!m) return;
      const [, colons, rest] = m;
      if (rest !== "") {
        const kind = rest.split(/\s+/)[0];
        if (!KINDS.has(kind)) onError({ lineNumber: i + 1, detail: `"${kind}" is not a VitePress container (${[...KINDS].join(", ")})`, context: line });
        open.push({ colons, line: i + 1 });
      } else {
        const top = open.pop();
        if (top === undefined) onError({ lineNumber: i + 1, detail: "closes no container", context: line });
        else if (top.colons !== colons) onError({ lineNumber: i + 1, detail: `closes the container of line ${top.line}, which opened with ${top.colons.length} colons`, context: line });
      }
      if (!blank(i - 1) || !blank(i + 1)) onError({ lineNumber: i + 1, detail: "a container's fence has a blank line before and after it", context: line });
    });
    for (const o of open) onError({ lineNumber: o.line, detail: "this container is never closed (:::)", context: lines[o.line - 1] });
  },
};
