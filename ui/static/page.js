() => {
  // The page's own behaviour: drawers, [n] popovers on tap and Escape, the length counter, and
  // a draft kept across reloads. Everything is delegated from document: the chat re-renders.
  if (window.paperchat) return;
  const body = document.body;
  const DRAFT = "paperchat_draft_v1";
  const narrow = (px) => window.matchMedia(`(max-width: ${px}px)`).matches;
  const pc = (window.paperchat = {
    toggle(which) {
      if (which === "history") {
        body.classList.remove("pc-open-sources");
        if (narrow(759)) body.classList.toggle("pc-open-history");
        else body.classList.toggle("pc-hide-history");
      } else {
        body.classList.remove("pc-open-history");
        body.classList.toggle("pc-open-sources");
        if (body.classList.contains("pc-open-sources")) {
          const first = document.querySelector("#pc-side button, #pc-side a");
          if (first) setTimeout(() => first.focus(), 0);
        }
      }
      pc.sync();
    },
    close() {
      body.classList.remove("pc-open-sources", "pc-open-history");
      pc.sync();
    },
    sync() {
      const hist = narrow(759) ? body.classList.contains("pc-open-history") : !body.classList.contains("pc-hide-history");
      const h = document.querySelector("#pc-toggle-history");
      const s = document.querySelector("#pc-toggle-sources");
      if (h) h.setAttribute("aria-expanded", String(hist));
      if (s) s.setAttribute("aria-expanded", String(body.classList.contains("pc-open-sources")));
    },
    count() {
      const box = document.querySelector("#pc-question textarea");
      const out = document.querySelector("#pc-count .pc-count");
      if (!box || !out) return;
      const max = Number(out.dataset.max || 2000);
      const n = box.value.trim().split(/\s+/).join(" ").length;
      const over = n > max;
      out.classList.toggle("pc-over", over);
      out.textContent = over
        ? `${n.toLocaleString("en")} / ${max.toLocaleString("en")} characters: too long to send, please shorten it`
        : n ? `${n.toLocaleString("en")} / ${max.toLocaleString("en")} characters` : "";
    },
    // Called as a question is sent: empty the box now, in the page, so nothing typed after Enter
    // can be wiped by a late reply. Not when the server will refuse to send it (too long, or an
    // answer still coming): then the text stays.
    submitted(q) {
      const out = document.querySelector("#pc-count .pc-count");
      const max = Number((out && out.dataset.max) || 2000);
      const n = String(q || "").trim().split(/\s+/).join(" ").length;
      const busy = document.querySelector("#pc-transcript .pc-thinking, #pc-transcript article.pc-bot:not([data-done])");
      if (n > max || busy) return;
      pc.clearDraft();
      const box = document.querySelector("#pc-question textarea");
      if (box && box.value === q) {
        box.value = "";
        box.dispatchEvent(new Event("input", { bubbles: true }));
      }
    },
    clearDraft() {
      try { localStorage.removeItem(DRAFT); } catch (e) { /* private mode */ }
      const out = document.querySelector("#pc-count .pc-count");
      if (out) { out.textContent = ""; out.classList.remove("pc-over"); }
    },
  });

  // Put a popover right under its [n] (above it near the bottom), kept inside the window.
  const place = (w) => {
    const b = w.querySelector(".pc-cite");
    const p = w.querySelector(".pc-pop");
    if (!b || !p) return;
    const r = b.getBoundingClientRect();
    const pw = p.offsetWidth || 320;
    const ph = p.offsetHeight || 0;
    let top = r.bottom;
    if (top + ph > window.innerHeight - 8 && r.top - ph > 8) top = r.top - ph;
    p.style.left = `${Math.max(8, Math.min(r.left, window.innerWidth - pw - 8))}px`;
    p.style.top = `${Math.max(8, top)}px`;
  };
  const placeFrom = (e) => {
    const w = e.target.closest && e.target.closest(".pc-cw");
    if (w) place(w);
  };
  document.addEventListener("mouseover", placeFrom);
  document.addEventListener("focusin", placeFrom);

  const closePopovers = (except) => {
    document.querySelectorAll(".pc-cw.pc-open").forEach((w) => {
      if (w === except) return;
      w.classList.remove("pc-open");
      const b = w.querySelector(".pc-cite");
      if (b) b.setAttribute("aria-expanded", "false");
    });
  };
  document.addEventListener("click", (e) => {
    // On a phone, starting or opening a chat closes the drawer: the chat is what you want to see.
    if (narrow(759) && e.target.closest && e.target.closest("#pc-new, #pc-conversations label")) {
      setTimeout(() => pc.close(), 0);
    }
    const b = e.target.closest && e.target.closest(".pc-cite");
    const w = b ? b.parentElement : null;
    if (!(e.target.closest && e.target.closest(".pc-pop"))) closePopovers(w);
    if (b) {
      const open = !w.classList.contains("pc-open");
      w.classList.toggle("pc-open", open);
      w.classList.remove("pc-closed");
      b.setAttribute("aria-expanded", String(open));
      if (open) place(w);
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    const a = document.activeElement;
    const w = a && a.closest && a.closest(".pc-cw");
    closePopovers(null);
    if (w) { w.classList.add("pc-closed"); return; }
    if (body.classList.contains("pc-open-sources") || body.classList.contains("pc-open-history")) pc.close();
  });
  document.addEventListener("focusout", (e) => {
    const w = e.target.closest && e.target.closest(".pc-cw");
    if (w && !w.contains(e.relatedTarget)) w.classList.remove("pc-closed");
  });
  document.addEventListener("mouseleave", (e) => {
    if (e.target.classList && e.target.classList.contains("pc-cw")) e.target.classList.remove("pc-closed");
  }, true);
  document.addEventListener("input", (e) => {
    if (!(e.target.closest && e.target.closest("#pc-question"))) return;
    pc.count();
    try { localStorage.setItem(DRAFT, e.target.value); } catch (err) { /* private mode */ }
  });
  // Bring back a draft typed before a reload, once the box exists.
  const restore = (tries) => {
    const box = document.querySelector("#pc-question textarea");
    if (!box) { if (tries > 0) setTimeout(() => restore(tries - 1), 100); return; }
    let draft = "";
    try { draft = localStorage.getItem(DRAFT) || ""; } catch (e) { /* private mode */ }
    if (draft && !box.value) {
      box.value = draft;
      box.dispatchEvent(new Event("input", { bubbles: true }));
    }
    pc.count();
    pc.sync();
  };
  restore(100);
  window.addEventListener("resize", () => pc.sync());
}
