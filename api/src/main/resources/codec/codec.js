// Ferry's codec sign-in page: plain JavaScript, no build step. The token goes to this API once;
// the API answers with an HttpOnly cookie for /codec that the Temporal UI then sends along.
"use strict";

const $ = (id) => document.getElementById(id);

function say(text, isError) {
  $("message").textContent = text || "";
  $("message").className = isError ? "error" : "";
}

function show(user, expiresAt) {
  $("signed-in").hidden = !user;
  $("sign-in").hidden = !!user;
  $("user").textContent = user || "";
  $("until").textContent = expiresAt ? " until " + new Date(expiresAt).toLocaleString() : "";
}

async function check() {
  const response = await fetch("/codec/session", { headers: { "Accept": "application/json" } });
  if (response.ok) {
    const session = await response.json();
    show(session.user, null);
  } else {
    show(null);
  }
}

async function signIn(event) {
  event.preventDefault();
  const token = $("token").value.trim();
  $("token").value = "";
  const response = await fetch("/codec/session", {
    method: "POST",
    headers: { "Authorization": "Bearer " + token, "Accept": "application/json" },
  });
  if (response.status === 401) { say("The token was not accepted.", true); return; }
  if (response.status === 403) { say("This token has no viewer role: it may not read payloads.", true); return; }
  if (!response.ok) { say("Sign-in failed: HTTP " + response.status, true); return; }
  const session = await response.json();
  show(session.user, session.expiresAt);
  say("Signed in. Reload the Temporal UI's page to see its payloads decoded.");
}

async function signOut() {
  await fetch("/codec/session", { method: "DELETE" });
  show(null);
  say("Signed out.");
}

document.addEventListener("DOMContentLoaded", () => {
  $("host").textContent = location.hostname;
  $("endpoint").textContent = location.origin + "/codec";
  $("token-form").addEventListener("submit", (e) => signIn(e).catch((err) => say(String(err), true)));
  $("sign-out").addEventListener("click", () => signOut().catch((err) => say(String(err), true)));
  check().catch((err) => say(String(err), true));
});
