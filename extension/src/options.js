/* spinscope extension: the options page (the server's address and its API token). */
"use strict";

const api = globalThis.browser ?? globalThis.chrome;
const DEFAULTS = { address: "http://127.0.0.1:8000", token: "" };
const $ = (id) => document.getElementById(id);

/** The server's address: http(s), a host, a port, and a path when a proxy serves it under one. */
function checked(value) {
  let url;
  try {
    url = new URL(value.trim());
  } catch {
    throw new Error("Give a full address, e.g. http://127.0.0.1:8000");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("The address must start with http:// or https://");
  if (url.username || url.password || url.search || url.hash) {
    throw new Error("Give the server's address only (no user name, ? or #), e.g. http://127.0.0.1:8000");
  }
  return url.origin + url.pathname.replace(/\/+$/, "");
}

function say(text, error = false) {
  $("result").textContent = text;
  $("result").className = error ? "error" : "";
}

async function load() {
  const stored = await api.storage.local.get(DEFAULTS);
  $("address").value = stored.address;
  $("token").value = stored.token;
  const origin = location.origin;
  $("origin").textContent = origin;
  $("origin-hint").textContent = origin.startsWith("moz-extension:")
    ? `Firefox gives each installation its own origin: start the server with \`spinscope serve --allow-origin ${origin}\`.`
    : "spinscope serve allows this origin by default (the extension's id is fixed by its manifest key).";
}

$("form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const address = checked($("address").value);
    await api.storage.local.set({ address, token: $("token").value.trim() });
    $("address").value = address;
    say("Saved.");
  } catch (error) {
    say(error.message, true);
  }
});

$("check").addEventListener("click", async () => {
  try {
    const address = checked($("address").value);
    const response = await fetch(`${address}/health`, { credentials: "omit", cache: "no-store", redirect: "error" });
    const info = await response.json();
    say(`spinscope ${info.version} is running at ${address}.`);
  } catch (error) {
    say(error instanceof TypeError
      ? `No spinscope server answers this extension at that address: start it with \`spinscope serve\` (in Firefox with --allow-origin ${location.origin}).`
      : error.message, true);
  }
});

load();
