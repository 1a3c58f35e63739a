// What a person sees of the page, and faults in its markup. Evaluated by
// tab.look; the value of the last expression is the result.
(() => {
  // contrast returns the WCAG contrast ratio of e's text colour on the
  // first background colour behind it.
  const contrast = (e) => {
    const rgb = (s) => s.match(/[\d.]+/g).map(Number);
    let bg = e;
    while (bg && rgb(getComputedStyle(bg).backgroundColor)[3] === 0) bg = bg.parentElement;
    const luminance = ([r, g, b]) => {
      const lin = (v) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    };
    const fg = luminance(rgb(getComputedStyle(e).color));
    const back = bg ? luminance(rgb(getComputedStyle(bg).backgroundColor)) : 1;
    return (Math.max(fg, back) + 0.05) / (Math.min(fg, back) + 0.05);
  };
  const clean = (s) => s.replace(/\s+/g, " ").trim();
  const shown = (e) =>
    e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
  const faults = [];
  for (const c of document.querySelectorAll("input, select, textarea")) {
    if (c.type === "hidden") continue;
    const label = c.id && document.querySelector(`label[for="${CSS.escape(c.id)}"]`);
    if (!label) faults.push(`form field without a <label for>: ${c.outerHTML}`);
  }
  for (const n of document.querySelectorAll(".notification")) {
    if (n.getAttribute("role") !== "alert") {
      faults.push(`notification without role="alert": ${clean(n.textContent)}`);
    }
  }
  // The messages a person must be able to read: flash and error
  // messages, hints under fields, and everything in the form boxes. WCAG AA
  // asks for a contrast of 4.5:1 for text of this size.
  for (const e of document.querySelectorAll('[role="alert"], .help, .box label, .box p')) {
    if (!shown(e) || !clean(e.textContent)) continue;
    const c = contrast(e);
    if (c < 4.5) faults.push(`text "${clean(e.textContent)}" has a contrast of ${c.toFixed(2)}:1; want at least 4.5:1`);
  }
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    faults.push(`page is ${root.scrollWidth}px wide in a ${root.clientWidth}px window`);
  }
  const heading = document.querySelector("main .title");
  return {
    path: location.pathname + location.search,
    title: document.title,
    heading: heading ? clean(heading.textContent) : "",
    alerts: [...document.querySelectorAll('[role="alert"]')].map((e) => clean(e.textContent)),
    nav: [...document.querySelectorAll("nav a, nav button")].filter(shown).map((e) => clean(e.textContent)),
    faults,
  };
})()
