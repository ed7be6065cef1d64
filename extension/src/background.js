/* spinscope extension: the background (a service worker in Chromium, an event page in Firefox).
 *
 * The toolbar button, the context-menu entry and the keyboard command all call analyseTab():
 * it injects the content script (page.css and content.js) into the tab the reader chose, which
 * extracts the article and asks back here for its analysis. Only this script talks to the
 * network, and only to the spinscope address of the options page: the content script never
 * fetches anything, so the page's own origin, cookies and CSP play no part.
 */
"use strict";

const api = globalThis.browser ?? globalThis.chrome;

const DEFAULTS = { address: "http://127.0.0.1:8000", token: "" };
/** The oldest spinscope whose API and Analysis JSON this extension reads. */
const MIN_SERVER_VERSION = "0.1.0";
const MENU_ID = "spinscope-analyse";
/** What the last press could not do (for the console and the tests). */
const state = { lastError: null, lastCall: null };

async function settings() {
  const stored = await api.storage.local.get(DEFAULTS);
  return { address: String(stored.address || DEFAULTS.address).replace(/\/+$/, ""), token: String(stored.token || "") };
}

/** "1.2.10" against "1.10.0": negative, zero or positive, as numbers part by part. */
function compareVersions(a, b) {
  const pa = String(a).split(/[.+-]/).map((x) => parseInt(x, 10) || 0);
  const pb = String(b).split(/[.+-]/).map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d) return d;
  }
  return 0;
}

/** fetch() held to the configured server: no cookies, no referrer, no redirect elsewhere. */
function call(url, init = {}) {
  state.lastCall = `${init.method || "GET"} ${url}`;
  return fetch(url, { credentials: "omit", referrerPolicy: "no-referrer", redirect: "error", cache: "no-store", ...init });
}

async function unreachable(address) {
  // A CORS refusal and a closed port both reject fetch(); an opaque request tells them apart
  // (browsers allow it only with redirects followed: /health never redirects, and nothing of
  // the answer is read).
  try {
    await call(`${address}/health`, { mode: "no-cors", redirect: "follow" });
  } catch {
    return `spinscope is not running at ${address}: start it with \`spinscope serve\` (or set its address in the extension's options).`;
  }
  const origin = globalThis.location.origin;
  return `The spinscope server at ${address} does not let this extension call it: restart it with \`spinscope serve --allow-origin ${origin}\`.`;
}

function refusal(status, body, headers, address) {
  const said = body && typeof body.error === "string" ? body.error : "";
  if (status === 401) return `The spinscope server at ${address} needs its API token: enter it in the extension's options. ${said}`.trim();
  if (status === 404) return `The server at ${address} is an older spinscope without this API: update it (pip install -U spinscope).`;
  if (status === 413) return `This page is too long for spinscope. ${said}`.trim();
  if (status === 429 || status === 503) {
    const wait = headers.get("Retry-After");
    return `${said || "The spinscope server is busy."}${wait ? ` Try again in ${wait} s.` : ""}`;
  }
  return said || `The spinscope server answered ${status}.`;
}

async function json(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** The server's version and labels, after checking it is a spinscope recent enough. */
async function serverInfo(address, auth) {
  const health = await call(`${address}/health`, { headers: auth });
  const info = await json(health);
  if (!health.ok || !info || typeof info.version !== "string") {
    return { error: `The server at ${address} is not spinscope, or an older one without /health: update it, or check the address in the extension's options.` };
  }
  if (compareVersions(info.version, MIN_SERVER_VERSION) < 0) {
    return { error: `The spinscope server at ${address} is version ${info.version}; this extension needs ${MIN_SERVER_VERSION} or later: update it (pip install -U spinscope).` };
  }
  const labels = await call(`${address}/api/v1/taxonomy`, { headers: auth });
  const taxonomy = await json(labels);
  if (!labels.ok) return { error: refusal(labels.status, taxonomy, labels.headers, address) };
  return { version: info.version, taxonomy };
}

/** The analysis of ``text`` by the configured server, or ``{error}`` saying what to do. */
async function analyse(text) {
  const { address, token } = await settings();
  const auth = token ? { Authorization: `Bearer ${token}` } : {};
  try {
    const info = await serverInfo(address, auth);
    if (info.error) return info;
    const response = await call(`${address}/api/v1/analyze`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ text }),
    });
    const body = await json(response);
    if (!response.ok) return { error: refusal(response.status, body, response.headers, address) };
    if (!body || !Array.isArray(body.spans) || typeof body.text !== "string") {
      return { error: `The server at ${address} answered something that is not a spinscope analysis: update it.` };
    }
    return { analysis: body, taxonomy: info.taxonomy, version: info.version, address };
  } catch (error) {
    state.lastError = `${state.lastCall}: ${error}`;
    return { error: await unreachable(address) };
  }
}

async function say(tabId, message) {
  await api.action.setBadgeBackgroundColor({ tabId, color: "#8a1c12" });
  await api.action.setBadgeText({ tabId, text: "!" });
  await api.action.setTitle({ tabId, title: `spinscope: ${message}` });
}

/** What the toolbar button, the context menu and the keyboard command do on ``tab``. */
async function analyseTab(tab) {
  if (!tab || tab.id === undefined) return { error: "no tab" };
  try {
    await api.action.setBadgeText({ tabId: tab.id, text: "" });
    await api.scripting.insertCSS({ target: { tabId: tab.id }, files: ["page.css"] });
    await api.scripting.executeScript({ target: { tabId: tab.id }, files: ["content.js"] });
    await api.tabs.sendMessage(tab.id, { type: "spinscope:run" });
    return { ok: true };
  } catch (error) {
    // The browser's own pages, the web stores and PDF viewers take no content script.
    const message = "this page cannot be analysed (the browser keeps extensions out of it): open an article on a web site.";
    const detail = `${message} (${error && error.message})`;
    console.warn(`spinscope: ${detail}`);
    state.lastError = detail;
    await say(tab.id, message);
    return { error: detail };
  }
}

api.runtime.onInstalled.addListener(() => {
  api.contextMenus.create({ id: MENU_ID, title: "Analyse this page with spinscope", contexts: ["page", "selection", "link", "image"] });
});
api.action.onClicked.addListener((tab) => analyseTab(tab));
api.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId === MENU_ID) analyseTab(tab);
});
api.commands.onCommand.addListener(async (command, tab) => {
  if (command !== "analyse-page") return;
  const [active] = tab ? [tab] : await api.tabs.query({ active: true, currentWindow: true });
  analyseTab(active);
});
api.runtime.onMessage.addListener((message, sender, reply) => {
  if (!message || message.type !== "spinscope:analyse" || !sender.tab) return false;
  analyse(String(message.text || "")).then(reply);
  return true; // the reply comes after the server answers
});

globalThis.spinscope = { analyseTab, analyse, compareVersions, state };
