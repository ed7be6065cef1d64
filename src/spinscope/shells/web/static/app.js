// spinscope page: sends one article to the API and shows its Analysis.
// Safety rule: article text only ever reaches the page through textContent / text nodes,
// never through innerHTML, so an article containing <script> is shown as text.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  const EXAMPLE = [
    "Enough Is Enough: Our Town Cannot Afford Another Year of Council Failure",
    "",
    "For the third year running, the so-called leaders at City Hall have thrown our money at vanity projects while ordinary families struggle to pay their bills.",
    "Every honest resident knows the truth: this council has betrayed the hard-working people who built this town, and it will keep doing so until we stop it.",
    "Experts agree that the new parking tax will destroy local shops within months. Once the shops close, the jobs go, the young people leave, and our community dies.",
    "The mayor says the budget is balanced, yet she flew to three conferences last year on the taxpayers' dime. Who is she to lecture anyone about sacrifice?",
    "There are only two choices left: vote them out in May, or watch everything we love disappear. The time to act is now. Take back our town!",
    "",
  ].join("\n");

  const labels = new Map(); // technique / frame / genre name -> {title, group, definition}
  const groupColour = new Map(); // technique group -> CSS colour
  const roleColour = new Map(); // main role of an entity -> CSS colour
  let lastJson = null; // the API's answer, byte for byte, for "Download JSON"
  let lastTitle = "article";
  let controller = null;
  let timer = null;

  // --- small DOM helpers ------------------------------------------------------------------

  function el(tag, options = {}, ...children) {
    const node = document.createElement(tag);
    const { className, text, attrs, style } = options;
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    for (const [name, value] of Object.entries(style || {})) node.style.setProperty(name, value);
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  const pct = (score) => `${Math.round(100 * score)}%`;
  const titleOf = (name) => (labels.get(name) || {}).title || String(name).replaceAll("_", " ");
  const colourOf = (name) => groupColour.get((labels.get(name) || {}).group) || "#9aa3ad";

  function languageName(code) {
    try {
      const name = new Intl.DisplayNames(["en"], { type: "language" }).of(code);
      return name && name !== code ? `${name} (${code})` : code;
    } catch {
      return code;
    }
  }

  // --- the API token: a shared server answers 401 until the page sends it ------------------

  const TOKEN_KEY = "spinscope.token"; // in sessionStorage: this tab keeps it until it closes
  let asking = null; // the question on screen, so that calls refused together ask once

  function storedToken() {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null; // storage disabled: the token is asked for on each refusal
    }
  }

  function keepToken(token) {
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // storage disabled: nothing is kept
    }
  }

  /** Ask for the token (saying so when the last one was refused); null when the reader cancels. */
  function askToken(refused) {
    if (asking) return asking;
    const dialog = $("token-dialog");
    if (typeof dialog.showModal !== "function") {
      const given = window.prompt(refused ? "The server refused that token. API token:" : "This server asks for an API token:");
      return Promise.resolve(given && given.trim() ? given.trim() : null);
    }
    const input = $("token");
    const error = $("token-error");
    input.value = "";
    error.textContent = refused ? "The server refused that token: check it and type it again." : "";
    error.hidden = !refused;
    asking = new Promise((resolve) => {
      const finish = (token) => {
        $("token-form").removeEventListener("submit", submit);
        $("token-cancel").removeEventListener("click", cancel);
        dialog.removeEventListener("cancel", cancel);
        if (dialog.open) dialog.close();
        asking = null;
        resolve(token);
      };
      const submit = (event) => {
        event.preventDefault();
        const token = input.value.trim();
        if (!/^[\x21-\x7e]+$/.test(token)) { // what an HTTP header can carry
          error.textContent = token ? "A token has only letters, digits and punctuation, without spaces." : "Type the token first.";
          error.hidden = false;
          input.focus();
          return;
        }
        finish(token);
      };
      const cancel = (event) => {
        event.preventDefault();
        finish(null);
      };
      $("token-form").addEventListener("submit", submit);
      $("token-cancel").addEventListener("click", cancel);
      dialog.addEventListener("cancel", cancel); // Escape
      dialog.showModal();
      input.focus();
    });
    return asking;
  }

  /** fetch() with the token as "Authorization: Bearer"; on a 401, ask for it and send the request again. */
  async function apiFetch(url, init = {}) {
    for (;;) {
      const token = storedToken();
      const headers = new Headers(init.headers || {});
      if (token) headers.set("Authorization", `Bearer ${token}`);
      const response = await fetch(url, { ...init, headers });
      if (response.status !== 401) return response;
      if (token) keepToken(null); // refused: never sent again
      const given = await askToken(Boolean(token));
      if (!given) throw new Error("This server asks for an API token: analyse again to type it, or ask whoever runs the server for it.");
      keepToken(given);
    }
  }

  // --- taxonomy ---------------------------------------------------------------------------

  async function loadTaxonomy() {
    const response = await apiFetch("/api/v1/taxonomy");
    if (!response.ok) throw new Error("Could not load the label definitions.");
    const taxonomy = await response.json();
    for (const kind of ["genres", "frames", "techniques", "narratives", "subnarratives", "roles", "fine_roles"]) {
      for (const label of taxonomy[kind]) labels.set(label.name, label);
    }
    for (const group of taxonomy.technique_groups) groupColour.set(group.name, group.colour);
    for (const role of taxonomy.role_colours) roleColour.set(role.name, role.colour);
  }

  // --- the form ---------------------------------------------------------------------------

  function source() {
    return document.querySelector('input[name="source"]:checked').value;
  }

  function showPanel() {
    for (const name of ["text", "url", "file"]) $(`panel-${name}`).hidden = name !== source();
  }

  function updateCounter() {
    const box = $("text");
    box.style.height = "auto"; // grow with the article, up to about 30 lines
    box.style.height = `${Math.min(box.scrollHeight + 4, 720)}px`;
    const n = Array.from(box.value).length;
    $("counter").textContent = `${n.toLocaleString("en")} character${n === 1 ? "" : "s"}`;
    $("counter").classList.toggle("over", n > 200000);
  }

  function showError(message) {
    $("error").textContent = message;
    $("error").hidden = false;
  }

  function clearMessages() {
    $("error").hidden = true;
    $("error").textContent = "";
    $("status").textContent = "";
  }

  function setBusy(busy) {
    $("analyse").disabled = busy;
    $("example").disabled = busy;
    $("progress").hidden = !busy;
    $("form").setAttribute("aria-busy", String(busy));
    clearInterval(timer);
    if (busy) {
      const started = Date.now();
      const tick = () => {
        const seconds = Math.floor((Date.now() - started) / 1000);
        $("progress-text").textContent = `Analysing… ${seconds} s (the models run on this server's CPU)`;
      };
      tick();
      timer = setInterval(tick, 1000);
    }
  }

  function buildRequest() {
    const lang = $("lang").value.trim();
    const kind = source();
    if (kind === "file") {
      const file = $("file").files[0];
      if (!file) throw new Error("Choose a .txt or .html file first.");
      const body = new FormData();
      body.append("file", file);
      if (lang) body.append("lang", lang);
      return { url: "/api/v1/analyze/file", init: { method: "POST", body } };
    }
    const value = kind === "text" ? $("text").value : $("url").value.trim();
    if (!value.trim()) {
      throw new Error(kind === "text"
        ? "Paste an article first: its title on the first line, then its paragraphs."
        : "Give the address of an article, starting with http:// or https://.");
    }
    const payload = { [kind]: value };
    if (lang) payload.lang = lang;
    return {
      url: "/api/v1/analyze",
      init: { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) },
    };
  }

  async function analyse(event) {
    event.preventDefault();
    clearMessages();
    let request;
    try {
      request = buildRequest();
    } catch (error) {
      showError(error.message);
      return;
    }
    controller = new AbortController();
    setBusy(true);
    try {
      const response = await apiFetch(request.url, { ...request.init, signal: controller.signal });
      const body = await response.text();
      let data;
      try {
        data = JSON.parse(body);
      } catch {
        throw new Error(`The server answered ${response.status} ${response.statusText} without an explanation.`);
      }
      if (!response.ok) throw new Error(data.error || `The server answered ${response.status}.`);
      lastJson = body;
      render(data);
      $("status").textContent = `Analysed: ${data.spans.length} highlight${data.spans.length === 1 ? "" : "s"}, genre ${data.genre.label}.`;
      $("results").focus({ preventScroll: false });
    } catch (error) {
      if (error.name === "AbortError") $("status").textContent = "Cancelled.";
      else showError(error.message);
    } finally {
      setBusy(false);
      controller = null;
    }
  }

  // --- the results ------------------------------------------------------------------------

  /** Cut [start, end) at every span boundary: [a, b, spans covering [a, b)] pieces. */
  function segments(start, end, spans) {
    const inside = spans.filter((s) => s.start < end && s.end > start);
    const cuts = new Set([start, end]);
    for (const s of inside) {
      cuts.add(Math.max(start, s.start));
      cuts.add(Math.min(end, s.end));
    }
    const sorted = [...cuts].sort((a, b) => a - b);
    const out = [];
    for (let i = 0; i + 1 < sorted.length; i++) {
      const [a, b] = [sorted[i], sorted[i + 1]];
      out.push([a, b, inside.filter((s) => s.start <= a && s.end >= b)]);
    }
    return out;
  }

  function renderBars(list, scores, chosen) {
    list.replaceChildren();
    const entries = Object.entries(scores).sort((x, y) => y[1] - x[1]);
    for (const [name, score] of entries) {
      const picked = chosen.has(name);
      const item = el("li", { className: picked ? "bar chosen" : "bar", attrs: { title: (labels.get(name) || {}).definition || "" } },
        el("span", { className: "bar-name", text: (picked ? "✓ " : "") + titleOf(name) }),
        el("span", { className: "bar-track", attrs: { "aria-hidden": "true" } },
          el("span", { className: "bar-fill", style: { width: pct(score) } })),
        el("span", { className: "bar-value", text: pct(score) }));
      list.append(item);
    }
  }

  function chip(technique, score, extra = {}) {
    return el("span", {
      className: "chip",
      text: `${titleOf(technique)} ${pct(score)}`,
      attrs: { tabindex: "0", "data-tip": JSON.stringify([{ technique, score }]), ...extra },
      style: { "--c": colourOf(technique) },
    });
  }

  function renderArticle(data) {
    const chars = Array.from(data.text); // offsets count code points, as Python does
    const slice = (a, b) => chars.slice(a, b).join("");
    const spans = [...data.spans].sort((x, y) => y.score - x.score);
    const titleStart = data.title ? data.title.start : -1;
    const mentions = (data.entities || []).flatMap((e) => e.mentions.map((m) => ({ ...m, entity: e })));
    const evidence = evidenceSets(data).flatMap((set) => set.items.map((e) => ({ start: e.start, end: e.end, ev: set.id })));
    const container = $("article");
    container.replaceChildren();
    for (const paragraph of data.paragraphs) {
      const isTitle = paragraph.start === titleStart;
      const block = el(isTitle ? "h3" : "p", { className: isTitle ? "para title" : "para", attrs: { id: `line-${paragraph.line}` } });
      block.append(el("span", { className: "line", text: String(paragraph.line), attrs: { "aria-label": `line ${paragraph.line}` } }));
      for (const [a, b, covering] of segments(paragraph.start, paragraph.end, [...spans, ...mentions, ...evidence])) {
        const techniques = covering.filter((s) => s.technique);
        const entity = covering.find((s) => s.entity);
        const sets = covering.filter((s) => s.ev).map((s) => s.ev);
        let piece = document.createTextNode(slice(a, b));
        if (entity) piece = entityMark(entity.entity, piece);
        if (techniques.length) {
          const tip = techniques.map((s) => ({ technique: s.technique, score: s.score }));
          piece = el("mark", {
            attrs: { tabindex: "0", "data-tip": JSON.stringify(tip), "data-techniques": techniques.map((s) => s.technique).join(" ") },
            style: { "--c": colourOf(techniques[0].technique) },
          }, piece);
        }
        // Evidence is drawn only while its narrative or entity is chosen (see pickEvidence).
        if (sets.length) piece = el("span", { className: "ev", attrs: { "data-ev": sets.join(" ") } }, piece);
        block.append(piece);
      }
      container.append(block);
      if (paragraph.techniques.length) {
        const chips = el("div", { className: "chips", attrs: { "aria-label": `Techniques in line ${paragraph.line}` } });
        for (const t of paragraph.techniques) chips.append(chip(t.label, t.score));
        container.append(chips);
      }
    }
  }

  function entityMark(entity, child) {
    const fine = entity.fine_roles.map((f) => f.label).join(", ");
    return el("span", {
      className: "entity",
      attrs: { "data-role": entity.role, title: `${entity.name}: ${entity.role}${fine ? ` (${fine})` : ""}` },
      style: { "--r": roleColour.get(entity.role) || "#555" },
    }, child);
  }

  // --- evidence: choosing a narrative or an entity highlights the sentences behind it -------

  /** Every set of evidence sentences of the analysis: [{id, label, items}], narratives first. */
  function evidenceSets(data) {
    const sets = [];
    (data.narratives || []).forEach((n, i) => {
      sets.push({ id: `n${i}`, label: n.label, items: n.evidence || [] });
      n.subnarratives.forEach((s, j) => sets.push({ id: `n${i}s${j}`, label: s.label, items: s.evidence || [] }));
    });
    (data.entities || []).forEach((e, i) => sets.push({ id: `e${i}`, label: `${e.name} (${e.role})`, items: e.evidence || [] }));
    return sets.filter((set) => set.items.length);
  }

  /** A button that shows (or hides) the evidence set ``id``; buttons take Enter and Space. */
  function evidenceButton(id, label, child, count) {
    return el("button", {
      className: "pick",
      attrs: { type: "button", "data-ev": id, "aria-pressed": "false", "aria-controls": "article",
        title: `Highlight the ${count} sentence${count === 1 ? "" : "s"} behind ${label} in the text` },
    }, child);
  }

  function pickEvidence(button) {
    const id = button.dataset.ev;
    const chosen = button.getAttribute("aria-pressed") !== "true";
    for (const other of document.querySelectorAll(".pick[aria-pressed=true]")) other.setAttribute("aria-pressed", "false");
    for (const lit of document.querySelectorAll("#article .ev.lit")) lit.classList.remove("lit");
    if (!chosen) {
      $("evidence-status").textContent = "";
      return;
    }
    button.setAttribute("aria-pressed", "true");
    const lit = [...document.querySelectorAll("#article .ev")].filter((span) => span.dataset.ev.split(" ").includes(id));
    for (const span of lit) span.classList.add("lit");
    const sentences = new Set(lit.map((span) => span.closest(".para")));
    $("evidence-status").textContent = `Evidence of ${button.textContent.trim()} highlighted in ${sentences.size} line${sentences.size === 1 ? "" : "s"}; Escape clears it.`;
    if (lit.length) lit[0].scrollIntoView({ block: "nearest" });
  }

  function clearEvidence() {
    const pressed = document.querySelector(".pick[aria-pressed=true]");
    if (pressed) pickEvidence(pressed);
  }

  function renderNarratives(data) {
    const list = $("narrative-list");
    list.replaceChildren();
    (data.narratives || []).forEach((n, i) => {
      const subs = el("ul", { className: "subnarratives" });
      n.subnarratives.forEach((s, j) => {
        const name = `${s.label.slice(n.label.length + 2) || s.label} ${pct(s.score)}`;
        const count = (s.evidence || []).length;
        subs.append(el("li", { attrs: { title: (labels.get(s.label) || {}).definition || "" } },
          count ? evidenceButton(`n${i}s${j}`, s.label, name, count) : name));
      });
      const count = (n.evidence || []).length;
      const head = el("strong", { text: n.label });
      list.append(el("li", { attrs: { title: (labels.get(n.label) || {}).definition || "" } },
        count ? evidenceButton(`n${i}`, n.label, head, count) : head, ` ${pct(n.score)}`, subs));
    });
    if (!list.children.length) list.append(el("li", { className: "hint", text: "No narrative model loaded." }));
    const why = $("explanation");
    why.hidden = !data.explanation;
    why.replaceChildren(...(data.explanation ? [el("strong", { text: "Why: " }), data.explanation.text] : []));
  }

  function renderEntities(data) {
    const list = $("entity-list");
    list.replaceChildren();
    (data.entities || []).forEach((e, i) => {
      const fine = e.fine_roles.map((f) => `${f.label} ${pct(f.score)}`).join(", ");
      const name = el("span", { className: "entity", text: e.name, style: { "--r": roleColour.get(e.role) || "#555" } });
      const count = (e.evidence || []).length;
      list.append(el("li", {},
        count ? evidenceButton(`e${i}`, `${e.name} (${e.role})`, name, count) : name,
        el("span", { className: "role", text: ` ${e.role} ${pct(e.score)}`, style: { color: roleColour.get(e.role) || "#555" } }),
        el("span", { className: "hint", text: `${fine ? ` · ${fine}` : ""} · ${e.mentions.length} mention${e.mentions.length === 1 ? "" : "s"}` })));
    });
    if (!list.children.length) list.append(el("li", { className: "hint", text: "No named entity found." }));
  }

  function renderLegend(data) {
    const used = new Set(data.spans.map((s) => (labels.get(s.technique) || {}).group));
    const legend = $("legend");
    legend.replaceChildren();
    for (const [group, colour] of groupColour) {
      legend.append(el("li", { className: used.has(group) ? "used" : "unused" },
        el("span", { className: "swatch", style: { "--c": colour }, attrs: { "aria-hidden": "true" } }),
        group));
    }
    for (const [role, colour] of roleColour) {
      legend.append(el("li", { className: "used" }, el("span", { className: "entity", text: role, style: { "--r": colour } })));
    }
  }

  function renderTechniqueList(data) {
    const lines = new Map(); // technique -> [[line, score], ...]
    for (const p of data.paragraphs) {
      for (const t of p.techniques) {
        if (!lines.has(t.label)) lines.set(t.label, []);
        lines.get(t.label).push([p.line, t.score]);
      }
    }
    const list = $("technique-list");
    list.replaceChildren();
    if (!lines.size) {
      list.append(el("li", { className: "hint", text: "No technique above its threshold." }));
      return;
    }
    const order = [...lines.entries()].sort((x, y) => y[1].length - x[1].length || titleOf(x[0]).localeCompare(titleOf(y[0])));
    for (const [technique, where] of order) {
      const links = el("span", { className: "lines" }, where.length === 1 ? "line " : "lines ");
      where.forEach(([line], i) => {
        if (i) links.append(", ");
        links.append(el("a", { text: String(line), attrs: { href: `#line-${line}` } }));
      });
      const best = Math.max(...where.map(([, score]) => score));
      list.append(el("li", {}, chip(technique, best), links));
    }
  }

  function render(data) {
    const title = data.title ? Array.from(data.text).slice(data.title.start, data.title.end).join("") : "";
    lastTitle = title || "article";
    $("language").textContent = data.language ? languageName(data.language) : "not detected";
    $("genre").textContent = `${titleOf(data.genre.label)} (${pct(data.genre.scores[data.genre.label] || 0)})`;
    $("span-count").textContent = String(data.spans.length);
    renderBars($("genre-bars"), data.genre.scores, new Set([data.genre.label]));
    renderBars($("frame-bars"), data.frame_scores, new Set(data.frames.map((f) => f.label)));
    renderLegend(data);
    renderArticle(data);
    renderTechniqueList(data);
    renderNarratives(data);
    renderEntities(data);
    $("results").hidden = false;
  }

  // --- tooltip: technique, definition and score on hover or focus -------------------------

  let tipOwner = null;

  function showTip(target) {
    const items = JSON.parse(target.getAttribute("data-tip"));
    const tip = $("tip");
    tip.replaceChildren();
    for (const { technique, score } of items) {
      const label = labels.get(technique) || {};
      tip.append(el("div", { className: "tip-item" },
        el("div", { className: "tip-head" },
          el("span", { className: "swatch", style: { "--c": colourOf(technique) }, attrs: { "aria-hidden": "true" } }),
          el("strong", { text: titleOf(technique) }),
          el("span", { className: "tip-score", text: ` score ${pct(score)}` })),
        el("div", { className: "tip-group", text: label.group || "" }),
        el("div", { className: "tip-def", text: label.definition || "" })));
    }
    tip.hidden = false;
    const box = target.getBoundingClientRect();
    const width = tip.offsetWidth;
    const left = Math.min(Math.max(8, box.left + window.scrollX), window.scrollX + document.documentElement.clientWidth - width - 8);
    let top = box.bottom + window.scrollY + 6;
    if (box.bottom + tip.offsetHeight + 12 > window.innerHeight) top = box.top + window.scrollY - tip.offsetHeight - 6;
    tip.style.left = `${left}px`;
    tip.style.top = `${top}px`;
    target.setAttribute("aria-describedby", "tip");
    tipOwner = target;
  }

  function hideTip() {
    if (tipOwner) tipOwner.removeAttribute("aria-describedby");
    tipOwner = null;
    $("tip").hidden = true;
  }

  function tipTarget(event) {
    return event.target instanceof Element ? event.target.closest("[data-tip]") : null;
  }

  // --- download ---------------------------------------------------------------------------

  function download() {
    if (!lastJson) return;
    const slug = lastTitle.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-|-$/g, "").slice(0, 60) || "article";
    const url = URL.createObjectURL(new Blob([lastJson], { type: "application/json" }));
    const link = el("a", { attrs: { href: url, download: `spinscope-${slug}.json` } });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  // --- wiring -----------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    const ready = loadTaxonomy().catch((error) => showError(error.message));
    for (const radio of document.querySelectorAll('input[name="source"]')) radio.addEventListener("change", showPanel);
    $("text").addEventListener("input", updateCounter);
    $("example").addEventListener("click", () => {
      document.getElementById("source-text").checked = true;
      showPanel();
      $("text").value = EXAMPLE;
      updateCounter();
      $("text").focus();
    });
    $("form").addEventListener("submit", async (event) => {
      event.preventDefault(); // before any await, or the browser submits the form itself
      await ready;
      if (!labels.size) { // the definitions were refused (no token yet): fetch them with the token
        clearMessages();
        try {
          await loadTaxonomy();
        } catch (error) {
          showError(error.message);
          return;
        }
      }
      await analyse(event);
    });
    $("cancel").addEventListener("click", () => controller && controller.abort());
    $("download").addEventListener("click", download);
    document.addEventListener("mouseover", (event) => {
      const target = tipTarget(event);
      if (target && target !== tipOwner) showTip(target);
      else if (!target && tipOwner && document.activeElement !== tipOwner) hideTip();
    });
    document.addEventListener("focusin", (event) => {
      const target = tipTarget(event);
      if (target) showTip(target);
      else hideTip();
    });
    document.addEventListener("focusout", (event) => {
      if (tipTarget(event) === tipOwner) hideTip();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        hideTip();
        clearEvidence();
      }
    });
    document.addEventListener("click", (event) => {
      const button = event.target.closest && event.target.closest(".pick");
      if (button) pickEvidence(button);
    });
    window.addEventListener("resize", hideTip);
    showPanel();
    updateCounter();
  });
})();
