// Faults in the layout of the page in a window the given number of CSS
// pixels wide: a page laid out for another width, anything wider than the
// window, a navbar link or button that is hidden, off screen or covered, a
// burger menu, styles that did not load, a link in the page that looks
// like the text around it. tab.checkLayout calls it.
(width) => {
  const faults = [];
  // The navbar is checked as the top of the page shows it, also on a page
  // that scrolled down to a field with an error.
  const [sx, sy] = [window.scrollX, window.scrollY];
  window.scrollTo(0, 0);
  if (window.innerWidth !== width) {
    faults.push(`page is laid out ${window.innerWidth}px wide; want ${width}px (is the viewport meta tag missing?)`);
  }
  const root = document.documentElement;
  if (root.scrollWidth > width) {
    faults.push(`page is ${root.scrollWidth}px wide in a ${width}px window`);
  }
  for (const e of document.querySelectorAll("body *")) {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && (r.right > width + 0.5 || r.left < -0.5)) {
      faults.push(`<${e.tagName.toLowerCase()} class="${e.className}"> spans ${r.left}px to ${r.right}px in a ${width}px window`);
      break; // one is enough to see the problem
    }
  }
  const items = document.querySelectorAll("nav a, nav button");
  if (items.length === 0) faults.push("navbar has no links");
  for (const e of items) {
    const name = e.textContent.trim();
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || getComputedStyle(e).visibility === "hidden") {
      faults.push(`navbar item ${name} is hidden`);
      continue;
    }
    if (r.left < 0 || r.right > width || r.top < 0 || r.bottom > window.innerHeight) {
      faults.push(`navbar item ${name} is off screen at ${r.left},${r.top}-${r.right},${r.bottom}`);
      continue;
    }
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (!e.contains(hit)) faults.push(`navbar item ${name} is covered by <${hit && hit.tagName.toLowerCase()}>`);
    if (r.height < 24) faults.push(`navbar item ${name} is ${r.height}px high, too small to tap`);
  }
  for (const b of document.querySelectorAll(".navbar-burger")) {
    if (b.getClientRects().length > 0) faults.push("navbar hides its links behind a burger");
  }
  // Bulma's padding of .hero-body means bulma.min.css loaded, and the
  // hero's darker teal (for contrast with white text) means app.css did.
  const body = document.querySelector(".hero-body");
  const pad = body ? getComputedStyle(body).paddingTop : "none";
  if (pad !== "48px") faults.push(`hero-body padding-top is ${pad}; want Bulma's 48px`);
  const hero = document.querySelector(".hero.is-primary");
  const bg = hero ? getComputedStyle(hero).backgroundColor : "none";
  if (bg !== "rgb(0, 128, 109)") faults.push(`hero background is ${bg}; want app.css's rgb(0, 128, 109)`);
  for (const a of document.querySelectorAll("nav a")) {
    const c = getComputedStyle(a).color;
    if (c !== "rgb(255, 255, 255)") faults.push(`navbar link ${a.textContent.trim()} is ${c}; want white`);
  }
  // A link must look like one: another colour than its text, or underlined.
  for (const a of document.querySelectorAll("main a:not(.button)")) {
    const s = getComputedStyle(a);
    if (s.color === getComputedStyle(a.parentElement).color && !s.textDecorationLine.includes("underline")) {
      faults.push(`link "${a.textContent.trim()}" looks like the text around it`);
    }
  }
  window.scrollTo(sx, sy);
  return faults;
}
