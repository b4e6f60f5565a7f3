// The website's page transforms, without a browser.
import { describe, expect, test } from "vitest";
import { siteText } from "../../cli/src/export/export.ts";
import { basePath, siteOptions } from "../src/config.ts";
import { foldedHints, githubSlug, resolveLink } from "../src/markdown.ts";
import { routeLink, sitePages } from "../src/pages.ts";

const opts = { ...siteOptions(), strict: true };
const pages = sitePages(opts.root);
const md = { root: opts.root, pages, repo: "https://example.org/course", branch: "main", strict: true };
const stage10 = pages.find((p) => p.stage === 10)!;

describe("the website's pages", () => {
  test("anchors are GitHub's, so a guide's #links work on a forge and on the site alike", () => {
    expect(githubSlug("Socket helpers (packages/connection/src/socket.ts)")).toBe("socket-helpers-packagesconnectionsrcsocketts");
    expect(githubSlug("h3 Flow control")).toBe("h3-flow-control");
  });

  test("hints are folded one level inside the other", () => {
    const text = foldedHints("# Hints\n\nRead one at a time.\n\n## h1 Echo\n\n### Level 1\n\nOne.\n\n### Level 2\n\nTwo.\n", "stage-10");
    expect(text).toMatch(/^## Hints\n\nRead one at a time\.\n\n### h1 Echo\n/);
    expect(text.indexOf("One.")).toBeLessThan(text.indexOf("<summary>Level 2"));
    expect(text.trimEnd().endsWith("</details>\n\n</details>")).toBe(true);
  });

  test("links: pages by route, hints to the stage page, source files to the repository, dead ones fail", () => {
    expect(resolveLink("hints.md#h3-flow-control", stage10, md, 99)).toEqual({ href: `/${stage10.route}#h3-flow-control` });
    expect(resolveLink("../../docs/architecture.md#close-rules", stage10, md, 99)).toEqual({ href: "/docs/architecture.md#close-rules" });
    expect(resolveLink("src/pipe.ts", stage10, md, 99)).toEqual({ href: "https://example.org/course/blob/main/stages/stage-10-pipes/src/pipe.ts" });
    expect(resolveLink("https://nginx.org/", stage10, md, 99)).toBeNull();
    expect(() => resolveLink("src/no-such-file.ts", stage10, md, 99)).toThrow(/stages\/stage-10-pipes\/README\.md links to src\/no-such-file\.ts, which does not exist/);
    expect(resolveLink("../stage-99-later/README.md", stage10, md, 13)).toEqual({ text: "stage 99, which comes later" });
    expect(routeLink(stage10)).toBe("/stages/stage-10-pipes/");
  });

  test("the base path has one slash at each end", () => {
    expect(basePath(undefined)).toBe("/");
    expect(basePath("expserver-ts")).toBe("/expserver-ts/");
    expect(basePath("/expserver-ts/")).toBe("/expserver-ts/");
  });

  test("the leak scan reads built HTML and page scripts as the code they show", () => {
    const html = '<pre class="shiki"><code><span class="line"><span style="--shiki-light:#D73A49">return</span><span> pipe.buffList.len </span><span>&lt;</span><span> pipe.buffThresh;</span></span></code></pre>';
    expect(siteText(html)).toContain("return pipe.buffList.len < pipe.buffThresh;");
    const chunk = JSON.stringify(html).replace(/</g, "\\u003c");
    expect(siteText(chunk)).toContain("return pipe.buffList.len < pipe.buffThresh;");
  });
});
