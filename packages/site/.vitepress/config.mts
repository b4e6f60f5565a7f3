// The course website's configuration: see ../src/config.ts. Mermaid diagrams
// (```mermaid blocks in the guides) are drawn as SVG by vitepress-plugin-mermaid.
import { withMermaid } from "vitepress-plugin-mermaid";
import { siteConfig, siteOptions } from "../src/config.ts";

const strict = process.env.XPS_DOCS_DEV !== "1";
export default withMermaid({
  ...siteConfig(siteOptions(process.env, strict)),
  mermaid: { securityLevel: "strict" },
});
