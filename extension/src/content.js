/* spinscope extension: the content script, injected into the chosen tab's top frame only
 * when the reader asks (toolbar button, context menu, keyboard command).
 *
 * 1. Readability (bundled by build.mjs, never fetched) finds the article in a copy of the page.
 * 2. Its paragraphs are matched back to the live page's block elements by their normalised
 *    text, and the text "title, blank line, one paragraph a line" goes to the background,
 *    which asks the spinscope server.
 * 3. Each span of the Analysis (offsets in Unicode code points of its `text`) is turned into
 *    UTF-16 offsets of a matched paragraph, then into (text node, offset) pairs, and exactly
 *    those characters are wrapped in <spinscope-mark> elements: the page's text, layout and
 *    scripts are left as they were. Overlapping spans become one mark per stretch of text,
 *    listing every technique that covers it.
 * 4. An in-page panel (a shadow root, so the page's CSS cannot reach it nor ours the page)
 *    shows the genre, frames, techniques per paragraph, narratives and entities.
 */
/* global Readability, PANEL_CSS */
"use strict";

(() => {
  if (globalThis.__spinscope) return; // injected again by a second click: one instance per page
  const api = globalThis.browser ?? globalThis.chrome;

  const BLOCKS = "p, li, h1, h2, h3, h4, h5, h6, blockquote, pre, dd, dt, figcaption, td, th";
  // Readability turns divs of inline content into paragraphs: the live page may hold them as these.
  const LIVE_BLOCKS = `${BLOCKS}, div, section, article, span, font, center, main`;
  const SKIP = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "SPINSCOPE-PANEL", "SPINSCOPE-TIP"]);
  const MARK = "spinscope-mark";
  /** Fewer characters than this in the article's paragraphs of prose: no article on this page. */
  const MIN_ARTICLE_CHARS = 200;
  const MIN_PROSE_CHARS = 40;
  /** The colours of the web page (shells/render.py GROUP_COLOURS, ROLE_COLOURS). */
  const GROUP_COLOURS = {
    "Attack on reputation": "#e4572e",
    Justification: "#f3a712",
    Simplification: "#a06cd5",
    Distraction: "#29a19c",
    Call: "#3c91e6",
    "Manipulative wording": "#f2d94e",
  };
  const ROLE_COLOURS = { Protagonist: "#1b8a3a", Antagonist: "#c0262d", Innocent: "#1f5fbf" };

  const norm = (s) => String(s).replace(/\s+/g, " ").trim();
  const pct = (x) => `${Math.round(x * 100)}%`;

  // --- 1. the article ---------------------------------------------------------------------

  /** Elements matching ``selector`` under ``root`` that hold no other such element. */
  function leaves(root, selector) {
    return [...root.querySelectorAll(selector)].filter((el) => !el.querySelector(selector));
  }

  function extract() {
    const copy = document.cloneNode(true);
    for (const own of copy.querySelectorAll("spinscope-panel, spinscope-tip")) own.remove();
    const article = new Readability(copy, { charThreshold: 300 }).parse();
    if (!article || !article.content) return { paragraphs: [] };
    const parsed = new DOMParser().parseFromString(article.content, "text/html"); // inert: nothing runs
    const paragraphs = leaves(parsed.body, BLOCKS).map((el) => norm(el.textContent)).filter(Boolean);
    return { title: norm(article.title || ""), paragraphs };
  }

  /** The live element for each paragraph (or null), in page order, deepest element first. */
  function matchLive(paragraphs, title) {
    const byText = new Map();
    for (const el of document.body ? document.body.querySelectorAll(LIVE_BLOCKS) : []) {
      if (el.closest("spinscope-panel")) continue;
      const key = norm(el.textContent);
      if (!key) continue;
      const list = byText.get(key) || [];
      // An ancestor with the same text comes first in page order: keep the deepest element only.
      if (list.length && list[list.length - 1].contains(el)) list[list.length - 1] = el;
      else list.push(el);
      byText.set(key, list);
    }
    const used = new Set();
    let last = null;
    const pick = (text, ordered) => {
      const found = (byText.get(text) || []).find(
        (el) => !used.has(el) && (!ordered || !last || last.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING),
      );
      if (found) used.add(found);
      return found || null;
    };
    const titleEl = title ? pick(title, false) : null;
    const elements = paragraphs.map((text) => {
      const el = pick(text, true);
      if (el) last = el;
      return el;
    });
    return { titleEl, elements };
  }

  // --- 2. offsets ---------------------------------------------------------------------------

  /** UTF-16 offset of every code point offset of ``text`` (and of its end). */
  function utf16Offsets(text) {
    const offsets = [0];
    let at = 0;
    for (const ch of text) {
      at += ch.length;
      offsets.push(at);
    }
    return offsets;
  }

  /** The text nodes of ``el`` read as norm() reads them: the normalised string and, for each
   *  of its UTF-16 units, the text node and offset it comes from. */
  function textMap(el) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT, {
      acceptNode: (node) => {
        for (let p = node.parentElement; p && p !== el.parentElement; p = p.parentElement) {
          if (SKIP.has(p.tagName)) return NodeFilter.FILTER_REJECT;
        }
        return NodeFilter.FILTER_ACCEPT;
      },
    });
    let text = "";
    const where = [];
    let space = null;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const data = node.data;
      for (let i = 0; i < data.length; i += 1) {
        if (/\s/.test(data[i])) {
          if (text && !space) space = [node, i];
          continue;
        }
        if (space) {
          text += " ";
          where.push(space);
          space = null;
        }
        text += data[i];
        where.push([node, i]);
      }
    }
    return { text, where };
  }

  /** Stretches [a, b) of a paragraph with every item covering each (items have local start/end). */
  function stretches(items) {
    const cuts = [...new Set(items.flatMap((s) => [s.start, s.end]))].sort((x, y) => x - y);
    const out = [];
    for (let i = 0; i + 1 < cuts.length; i += 1) {
      const [a, b] = [cuts[i], cuts[i + 1]];
      const covering = items.filter((s) => s.start <= a && s.end >= b);
      if (covering.length) out.push({ start: a, end: b, covering });
    }
    return out;
  }

  // --- 3. marks -----------------------------------------------------------------------------

  function clear() {
    for (const mark of document.querySelectorAll(MARK)) {
      const parent = mark.parentNode;
      mark.replaceWith(...mark.childNodes);
      parent.normalize();
    }
  }

  /** Wrap the characters where[a] .. where[b - 1] in marks made by ``make``; later stretches
   *  first, so the text nodes and offsets of earlier ones stay valid. */
  function wrap(where, a, b, make) {
    const pieces = [];
    for (let i = a; i < b; i += 1) {
      const [node, offset] = where[i];
      const piece = pieces[pieces.length - 1];
      if (piece && piece.node === node) piece.end = offset + 1;
      else pieces.push({ node, start: offset, end: offset + 1 });
    }
    const made = [];
    for (const { node, start, end } of pieces.reverse()) {
      if (!node.parentNode || !node.data.slice(start, end).trim()) continue;
      const middle = start > 0 ? node.splitText(start) : node;
      if (end - start < middle.data.length) middle.splitText(end - start);
      const mark = make();
      middle.replaceWith(mark);
      mark.append(middle);
      made.unshift(mark);
    }
    return made;
  }

  function markMaker(covering, labels) {
    const techniques = covering.filter((s) => s.technique).sort((x, y) => y.score - x.score);
    const entity = covering.find((s) => s.entity);
    return () => {
      const mark = document.createElement(MARK);
      mark.className = "spinscope-mark";
      if (techniques.length) {
        const group = (labels.get(techniques[0].technique) || {}).group;
        mark.classList.add("spinscope-technique");
        mark.tabIndex = 0;
        mark.dataset.spinscopeTechniques = techniques.map((s) => s.technique).join(" ");
        mark.dataset.spinscopeTip = JSON.stringify(techniques.map((s) => [s.technique, s.score]));
        mark.style.setProperty("--spinscope-c", GROUP_COLOURS[group] || "#8aa4c8");
        if (techniques.length > 1) mark.classList.add("spinscope-overlap");
      }
      if (entity) {
        mark.classList.add("spinscope-entity");
        mark.dataset.spinscopeEntity = entity.entity.name;
        mark.style.setProperty("--spinscope-r", ROLE_COLOURS[entity.entity.role] || "#555");
      }
      return mark;
    };
  }

  /** Highlight ``analysis`` on the page; returns what could not be placed, never throws. */
  function highlight(analysis, sent, labels) {
    const u16 = utf16Offsets(analysis.text);
    const spans = analysis.spans.map((s) => ({ ...s, start: u16[s.start], end: u16[s.end] }));
    const mentions = (analysis.entities || []).flatMap((entity) =>
      entity.mentions.map((m) => ({ entity, start: u16[m.start], end: u16[m.end] })),
    );
    const report = { placed: 0, changed: [], blocks: [], u16 };
    let from = 0;
    sent.forEach(({ text, el, line }) => {
      const at = analysis.text.indexOf(text, from);
      const block = { line, el, start: at, end: at + text.length, marks: [] };
      report.blocks.push(block);
      if (at < 0) return;
      from = at + text.length;
      if (!el) return;
      try {
        const map = textMap(el);
        if (!el.isConnected || map.text !== text) {
          report.changed.push(line); // the page changed while it was analysed
          return;
        }
        const inside = [...spans, ...mentions]
          .filter((s) => s.start < block.end && s.end > block.start)
          .map((s) => ({ ...s, start: Math.max(s.start, at) - at, end: Math.min(s.end, block.end) - at }));
        for (const piece of stretches(inside).reverse()) {
          block.marks.unshift(...wrap(map.where, piece.start, piece.end, markMaker(piece.covering, labels)));
        }
        report.placed += block.marks.length;
      } catch {
        report.changed.push(line);
      }
    });
    return report;
  }

  // --- 4. the tooltip and the panel -----------------------------------------------------------

  function shadowHost(tag) {
    let host = document.querySelector(tag);
    if (!host) {
      host = document.createElement(tag);
      document.documentElement.append(host); // outside <body>: the page's text is left alone
      const root = host.attachShadow({ mode: "open" });
      try {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(PANEL_CSS);
        root.adoptedStyleSheets = [sheet];
      } catch {
        const style = document.createElement("style"); // Firefox content scripts: no adopted sheets
        style.textContent = PANEL_CSS;
        root.append(style);
      }
    }
    return host;
  }

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key === "on") for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
      else if (key === "style") for (const [name, v] of Object.entries(value)) node.style.setProperty(name, v);
      else node.setAttribute(key, value);
    }
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  }

  let labels = new Map();
  const titleOf = (name) => (labels.get(name) || {}).title || String(name).replace(/_/g, " ");

  const tip = {
    show(mark) {
      const host = shadowHost("spinscope-tip");
      const root = host.shadowRoot;
      let box = root.querySelector(".tip");
      if (!box) {
        box = el("div", { className: "tip", role: "tooltip", id: "spinscope-tip" });
        root.append(box);
      }
      box.replaceChildren(
        ...JSON.parse(mark.dataset.spinscopeTip).map(([name, score]) => {
          const label = labels.get(name) || {};
          return el(
            "div",
            { className: "tip-item" },
            el("div", { className: "tip-head" },
              el("span", { className: "swatch", style: { "--c": GROUP_COLOURS[label.group] || "#8aa4c8" } }),
              el("strong", { text: titleOf(name) }),
              el("span", { className: "tip-score", text: `score ${pct(score)}` })),
            el("div", { className: "tip-group", text: label.group || "" }),
            el("div", { className: "tip-def", text: label.definition || "" }),
          );
        }),
      );
      const rect = mark.getBoundingClientRect();
      host.hidden = false;
      // Beside the panel, not over it: the tooltip ends where the panel begins.
      const panelHost = document.querySelector("spinscope-panel");
      const side = panelHost && !panelHost.hidden ? panelHost.shadowRoot.querySelector(".panel") : null;
      const right = side ? side.getBoundingClientRect().left : window.innerWidth;
      box.style.left = `${Math.max(4, Math.min(rect.left, right - box.offsetWidth - 8))}px`;
      box.style.top = `${rect.bottom + 6}px`;
    },
    hide() {
      const host = document.querySelector("spinscope-tip");
      if (host) host.hidden = true;
    },
  };

  function onPointer(event) {
    const mark = event.target instanceof Element ? event.target.closest(".spinscope-technique") : null;
    if (mark) tip.show(mark);
    else if (event.type === "focusin" || event.type === "mouseover") tip.hide();
  }
  document.addEventListener("mouseover", onPointer, true);
  document.addEventListener("focusin", onPointer, true);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") tip.hide();
  }, true);
  window.addEventListener("scroll", () => tip.hide(), { passive: true });

  function scrollTo(target) {
    if (!target || !target.isConnected) return;
    target.scrollIntoView({ block: "center", behavior: "smooth" });
    target.classList.add("spinscope-flash");
    setTimeout(() => target.classList.remove("spinscope-flash"), 1600);
    if (target.tabIndex >= 0) target.focus({ preventScroll: true });
  }

  /** A button of the panel that scrolls the page to ``target()`` (found when pressed). */
  function goTo(text, target, extra = {}) {
    return el("button", { type: "button", className: "go", text, on: { click: () => scrollTo(target()) }, ...extra });
  }

  const panel = {
    root() {
      const host = shadowHost("spinscope-panel");
      const root = host.shadowRoot;
      if (!root.querySelector(".panel")) {
        const close = el("button", { type: "button", className: "close", "aria-label": "Close the spinscope panel", text: "×",
          on: { click: () => { host.hidden = true; } } });
        root.append(el("aside", { className: "panel", role: "complementary", "aria-label": "spinscope analysis" },
          el("header", {}, el("h1", { text: "spinscope" }), close),
          el("div", { className: "status", role: "status", "aria-live": "polite" }),
          el("div", { className: "body" })));
      }
      host.hidden = false;
      return root;
    },
    status(text, kind = "info") {
      const root = this.root();
      const status = root.querySelector(".status");
      status.className = `status ${kind}`;
      status.setAttribute("role", kind === "error" ? "alert" : "status");
      status.textContent = text;
      if (kind === "error") root.querySelector(".body").replaceChildren();
    },
  };

  function section(title, ...children) {
    return el("section", {}, el("h2", { text: title }), ...children);
  }

  function chip(name, score) {
    const group = (labels.get(name) || {}).group;
    return el("span", { className: "chip", style: { "--c": GROUP_COLOURS[group] || "#8aa4c8" }, title: (labels.get(name) || {}).definition || "" },
      `${titleOf(name)} ${pct(score)}`);
  }

  /** The live paragraph holding the UTF-16 offset ``at`` of the analysed text, if any. */
  function blockAt(report, at) {
    const block = report.blocks.find((b) => b.start >= 0 && b.start <= at && at < b.end);
    return block && block.el && block.el.isConnected ? block.el : null;
  }

  function techniquesSection(analysis, report) {
    const list = el("ol", { className: "paragraphs" });
    for (const paragraph of analysis.paragraphs) {
      if (!paragraph.techniques.length) continue;
      const block = report.blocks.find((b) => b.line === paragraph.line) || { marks: [] };
      const target = () => block.marks.find((m) => m.isConnected && m.tabIndex >= 0) || (block.el && block.el.isConnected ? block.el : null);
      const where = paragraph.line === 1 ? "Title" : `Paragraph ${paragraph.line - 2}`;
      list.append(el("li", {}, goTo(where, target, { "data-line": String(paragraph.line) }),
        el("div", { className: "chips" }, ...paragraph.techniques.map((t) => chip(t.label, t.score)))));
    }
    return section("Techniques by paragraph", list.children.length ? list : el("p", { className: "hint", text: "No technique found." }));
  }

  function narrativesSection(analysis, report) {
    const list = el("ol", { className: "narratives" });
    for (const narrative of analysis.narratives || []) {
      // Evidence sentences (when the server gives them) say where; else the article's start.
      const evidence = (narrative.evidence || []).find((e) => Number.isInteger(e.start));
      const target = () => blockAt(report, evidence ? report.u16[evidence.start] : -1) || (report.blocks.find((b) => b.el) || {}).el;
      list.append(el("li", {}, goTo(`${titleOf(narrative.label)} ${pct(narrative.score)}`, target),
        el("ul", { className: "sub" }, ...(narrative.subnarratives || []).map((s) =>
          el("li", { text: `${titleOf(s.label).split(": ").pop()} ${pct(s.score)}` })))));
    }
    return section("Narratives", list.children.length ? list : el("p", { className: "hint", text: "No narrative found." }));
  }

  function entitiesSection(analysis, report) {
    const list = el("ul", { className: "entities" });
    for (const entity of analysis.entities || []) {
      let turn = 0;
      const target = () => {
        const marks = report.blocks.flatMap((b) => b.marks).filter((m) => m.isConnected && m.dataset.spinscopeEntity === entity.name);
        turn += 1;
        return marks.length ? marks[(turn - 1) % marks.length] : null;
      };
      const fine = (entity.fine_roles || []).map((f) => f.label).join(", ");
      list.append(el("li", { style: { "--r": ROLE_COLOURS[entity.role] || "#555" } },
        goTo(entity.name, target),
        el("span", { className: "role", text: ` ${entity.role}${fine ? ` (${fine})` : ""}` })));
    }
    return section("Entities and their roles", list.children.length ? list : el("p", { className: "hint", text: "No entity found." }));
  }

  function legend() {
    return section("Colours", el("ul", { className: "legend" }, ...Object.entries(GROUP_COLOURS).map(([group, colour]) =>
      el("li", {}, el("span", { className: "swatch", style: { "--c": colour } }), group))));
  }

  function show(result, report) {
    const { analysis } = result;
    const root = panel.root();
    const genre = analysis.genre;
    const frames = (analysis.frames || []).map((f) => `${titleOf(f.label)} ${pct(f.score)}`).join(", ") || "none";
    const facts = el("dl", { className: "facts" },
      el("dt", { text: "Genre" }), el("dd", { className: "genre", text: genre ? `${titleOf(genre.label)} ${pct(genre.scores[genre.label])}` : "–" }),
      el("dt", { text: "Frames" }), el("dd", { className: "frames", text: frames }),
      el("dt", { text: "Language" }), el("dd", { text: analysis.language || "–" }));
    root.querySelector(".body").replaceChildren(facts, techniquesSection(analysis, report),
      narrativesSection(analysis, report), entitiesSection(analysis, report), legend(),
      el("p", { className: "hint", text: `spinscope ${result.version} at ${result.address}` }));
    const changed = report.changed.length
      ? ` ${report.changed.length} paragraph${report.changed.length > 1 ? "s" : ""} changed while it was analysed: not highlighted.`
      : "";
    panel.status(`Analysed: ${analysis.spans.length} technique spans, ${report.placed} highlights on the page.${changed}`,
      report.changed.length ? "warn" : "info");
  }

  // --- the run --------------------------------------------------------------------------------

  async function run() {
    panel.status("Reading the article…");
    clear();
    tip.hide();
    const found = extract();
    // Menus and link lists are short lines: only sentences of some length make an article.
    const prose = found.paragraphs.filter((p) => p.length >= MIN_PROSE_CHARS).reduce((n, p) => n + p.length, 0);
    if (prose < MIN_ARTICLE_CHARS) {
      const frames = document.querySelectorAll("iframe, frame").length;
      panel.status(
        `No article found on this page${frames ? " (its text may be in a frame: open the frame's page on its own and try again)" : ""}: ` +
          "open a page with the text of a news article and try again.",
        "error",
      );
      return { error: "no article" };
    }
    // spinscope reads the first line as the title: without one, the first paragraph is it.
    const title = found.title || found.paragraphs[0];
    const paragraphs = found.title ? found.paragraphs : found.paragraphs.slice(1);
    const { titleEl, elements } = matchLive(paragraphs, title);
    const sent = [{ text: title, el: titleEl, line: 1 }, ...paragraphs.map((text, i) => ({ text, el: elements[i], line: i + 3 }))];
    const text = `${title}\n\n${paragraphs.join("\n")}\n`;
    panel.status(`Analysing ${found.paragraphs.length} paragraphs with spinscope…`);
    const result = await api.runtime.sendMessage({ type: "spinscope:analyse", text });
    if (!result || result.error) {
      panel.status(result ? result.error : "The extension's background did not answer: reload the extension.", "error");
      return { error: result ? result.error : "no answer" };
    }
    labels = new Map(Object.values(result.taxonomy || {}).filter(Array.isArray).flat().map((l) => [l.name, l]));
    clear(); // a second run may have started meanwhile
    const report = highlight(result.analysis, sent, labels);
    show(result, report);
    return { placed: report.placed, changed: report.changed.length };
  }

  let running = null;
  api.runtime.onMessage.addListener((message, sender, reply) => {
    if (!message || message.type !== "spinscope:run") return false;
    running = (running || Promise.resolve()).then(run, run).catch((error) => {
      panel.status(`spinscope could not analyse this page: ${error && error.message}`, "error");
      return { error: String(error) };
    });
    running.then(reply);
    return true;
  });
  globalThis.__spinscope = { run, clear };
})();
