// Passkeys: registration on /account/2fa, the second step on /login/2fa,
// and logins without a password on /login, by WebAuthn. The server sends
// the options as JSON with binary fields in base64url and checks every
// answer; this script only carries them between it and the browser.
(() => {
  "use strict";
  if (!window.PublicKeyCredential) {
    for (const e of document.querySelectorAll("[data-passkey]")) e.hidden = true;
    return;
  }
  const dec = (s) => {
    const b = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(b, (c) => c.charCodeAt(0)).buffer;
  };
  const enc = (buf) =>
    btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const ids = (list) => (list || []).map((c) => ({ ...c, id: dec(c.id) }));

  const creationOptions = (o) => ({
    ...o,
    challenge: dec(o.challenge),
    user: { ...o.user, id: dec(o.user.id) },
    excludeCredentials: ids(o.excludeCredentials),
  });
  const requestOptions = (o) => ({ ...o, challenge: dec(o.challenge), allowCredentials: ids(o.allowCredentials) });

  const credentialJSON = (c) => {
    const r = c.response;
    const response = { clientDataJSON: enc(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = enc(r.attestationObject);
      if (r.getTransports) response.transports = r.getTransports();
    } else {
      response.authenticatorData = enc(r.authenticatorData);
      response.signature = enc(r.signature);
      if (r.userHandle) response.userHandle = enc(r.userHandle);
    }
    return {
      id: c.id, rawId: enc(c.rawId), type: c.type, response,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
    };
  };

  const post = async (url, body) => {
    const res = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? "{}" : JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || "Something went wrong. Please try again.");
    return data;
  };

  const showError = (msg) => {
    const e = document.getElementById("passkey-error");
    if (!e) return;
    // Made an alert only now: an empty one would be announced.
    e.className = "notification is-danger is-light";
    e.setAttribute("role", "alert");
    e.textContent = msg;
    e.hidden = false;
    e.focus();
  };
  const failed = (err) => {
    // The person closed the browser's dialog: nothing to say.
    if (err && (err.name === "NotAllowedError" || err.name === "AbortError")) return;
    showError(err && err.message ? err.message : "Something went wrong. Please try again.");
  };
  const next = () => new URLSearchParams(location.search).get("next") || "";
  const withNext = (url) => (next() ? url + (url.includes("?") ? "&" : "?") + "next=" + encodeURIComponent(next()) : url);

  // Registration, from the form on /account/2fa.
  const reg = document.getElementById("passkey-register");
  if (reg) {
    reg.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const name = reg.querySelector("[name=name]").value;
      try {
        const opts = await post("/account/passkeys/begin");
        const cred = await navigator.credentials.create({ publicKey: creationOptions(opts.publicKey) });
        const done = await post("/account/passkeys/finish?name=" + encodeURIComponent(name), credentialJSON(cred));
        location.assign(done.redirect);
      } catch (err) {
        failed(err);
      }
    });
  }

  // The second step, on /login/2fa.
  const second = document.getElementById("passkey-second");
  if (second) {
    second.addEventListener("click", async () => {
      try {
        const opts = await post("/login/2fa/passkey/begin");
        const cred = await navigator.credentials.get({ publicKey: requestOptions(opts.publicKey) });
        const trust = document.getElementById("trust");
        const url = "/login/2fa/passkey/finish" + (trust && trust.checked ? "?trust=on" : "");
        const done = await post(withNext(url), credentialJSON(cred));
        location.assign(done.redirect);
      } catch (err) {
        failed(err);
      }
    });
  }

  // A login without a password, on /login: from the button, or from the
  // browser's list of passkeys offered in the email field (conditional
  // mediation), where the browser has it.
  const login = document.getElementById("passkey-login");
  if (login) {
    let pending = null;
    const signIn = async (conditional) => {
      const opts = await post("/login/passkey/begin" + (conditional ? "?mediation=conditional" : ""));
      const req = { publicKey: requestOptions(opts.publicKey) };
      if (conditional) {
        pending = new AbortController();
        req.mediation = "conditional";
        req.signal = pending.signal;
      }
      const cred = await navigator.credentials.get(req);
      const done = await post(withNext("/login/passkey/finish"), credentialJSON(cred));
      location.assign(done.redirect);
    };
    login.addEventListener("click", async () => {
      if (pending) pending.abort();
      pending = null;
      try {
        await signIn(false);
      } catch (err) {
        failed(err);
      }
    });
    if (PublicKeyCredential.isConditionalMediationAvailable) {
      // Offered in the background: a failure there interrupts nobody,
      // and the form works as before.
      PublicKeyCredential.isConditionalMediationAvailable().then((ok) => {
        if (ok) signIn(true).catch(() => {});
      });
    }
  }
})();
