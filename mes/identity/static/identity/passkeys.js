// Passkeys (WebAuthn) for both portals: sign in with one, or associate a new device.
// Served by the application itself (CSP script-src 'self'); no inline script, no library.
//
// Markup it looks for:
//   <div data-passkey-login data-options-url=… data-url=… data-next=…> with a button and a
//     [data-passkey-status] live region: signs in with a passkey.
//   <form data-passkey-register data-options-url=… data-url=…> with an input named "name":
//     associates a new passkey under that name.
// Both stay hidden (the `hidden` attribute) where the browser has no WebAuthn.
"use strict";

(function () {
  function toBase64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = b64 + "===".slice((b64.length + 3) % 4);
    const raw = atob(padded);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function csrfToken(root) {
    const input = root.querySelector("input[name=csrfmiddlewaretoken]") ||
      document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function post(url, token, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body || {}),
    });
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok || !data) {
      throw new Error((data && data.message) || "Le service ne répond pas. Réessayez.");
    }
    return data;
  }

  function credentialJSON(credential) {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    const r = credential.response;
    const json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      response: { clientDataJSON: toBase64url(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      json.response.attestationObject = toBase64url(r.attestationObject);
      json.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(r.authenticatorData);
      json.response.signature = toBase64url(r.signature);
      if (r.userHandle) json.response.userHandle = toBase64url(r.userHandle);
    }
    return json;
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    const options = Object.assign({}, json, { challenge: fromBase64url(json.challenge) });
    options.allowCredentials = (json.allowCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: fromBase64url(c.id) });
    });
    return options;
  }

  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    const options = Object.assign({}, json, { challenge: fromBase64url(json.challenge) });
    options.user = Object.assign({}, json.user, { id: fromBase64url(json.user.id) });
    options.excludeCredentials = (json.excludeCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: fromBase64url(c.id) });
    });
    return options;
  }

  function say(root, text) {
    const status = root.querySelector("[data-passkey-status]");
    if (status) status.textContent = text;
  }

  function cancelled(error) {
    return error && (error.name === "NotAllowedError" || error.name === "AbortError");
  }

  function setUpLogin(root) {
    const button = root.querySelector("button");
    button.addEventListener("click", async function () {
      button.disabled = true;
      say(root, "Utilisez votre clé d'accès…");
      try {
        const token = csrfToken(root);
        const options = await post(root.dataset.optionsUrl, token);
        const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
        const result = await post(root.dataset.url, token, {
          credential: credentialJSON(credential),
          next: root.dataset.next || "",
        });
        say(root, "Connexion réussie.");
        window.location.assign(result.redirect);
      } catch (error) {
        say(root, cancelled(error)
          ? "La connexion avec une clé d'accès a été annulée."
          : error.message || "La clé d'accès n'a pas été reconnue.");
        button.disabled = false;
      }
    });
  }

  function setUpRegister(form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const name = form.querySelector("input[name$=name]");
      const button = form.querySelector("button[type=submit]");
      if (!name.value.trim()) {
        say(form, "Donnez un nom à cet appareil.");
        name.focus();
        return;
      }
      button.disabled = true;
      say(form, "Suivez les indications de votre appareil…");
      try {
        const token = csrfToken(form);
        const options = await post(form.dataset.optionsUrl, token);
        const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
        const result = await post(form.dataset.url, token, {
          credential: credentialJSON(credential),
          name: name.value,
        });
        window.location.assign(result.redirect);
      } catch (error) {
        say(form, cancelled(error)
          ? "L'association a été annulée."
          : error.message || "L'appareil n'a pas pu être associé.");
        button.disabled = false;
      }
    });
  }

  function start() {
    if (!window.PublicKeyCredential || !navigator.credentials) return;
    document.querySelectorAll("[data-passkey-login]").forEach(function (root) {
      root.hidden = false;
      setUpLogin(root);
    });
    document.querySelectorAll("[data-passkey-register]").forEach(function (form) {
      form.hidden = false;
      setUpRegister(form);
    });
    document.querySelectorAll("[data-passkey-unsupported]").forEach(function (el) {
      el.hidden = true;
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
