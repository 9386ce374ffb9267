// Code 39 barcodes drawn as SVG by the page itself (no library, no network).
// Each character is 9 elements (bar, space, bar, ... bar); 3 of them are wide. Start and stop: '*'.
"use strict";
const Code39 = (function () {
  const PATTERNS = {
    "0": "nnnwwnwnn", "1": "wnnwnnnnw", "2": "nnwwnnnnw", "3": "wnwwnnnnn", "4": "nnnwwnnnw",
    "5": "wnnwwnnnn", "6": "nnwwwnnnn", "7": "nnnwnnwnw", "8": "wnnwnnwnn", "9": "nnwwnnwnn",
    "A": "wnnnnwnnw", "B": "nnwnnwnnw", "C": "wnwnnwnnn", "D": "nnnnwwnnw", "E": "wnnnwwnnn",
    "F": "nnwnwwnnn", "G": "nnnnnwwnw", "H": "wnnnnwwnn", "I": "nnwnnwwnn", "J": "nnnnwwwnn",
    "K": "wnnnnnnww", "L": "nnwnnnnww", "M": "wnwnnnnwn", "N": "nnnnwnnww", "O": "wnnnwnnwn",
    "P": "nnwnwnnwn", "Q": "nnnnnnwww", "R": "wnnnnnwwn", "S": "nnwnnnwwn", "T": "nnnnwnwwn",
    "U": "wwnnnnnnw", "V": "nwwnnnnnw", "W": "wwwnnnnnn", "X": "nwnnwnnnw", "Y": "wwnnwnnnn",
    "Z": "nwwnwnnnn", "-": "nwnnnnwnw", ".": "wwnnnnwnn", " ": "nwwnnnwnn", "$": "nwnwnwnnn",
    "/": "nwnwnnnwn", "+": "nwnnnwnwn", "%": "nnnwnwnwn", "*": "nwnnwnwnn",
  };
  const NARROW = 2, WIDE = 5, QUIET = 20;

  // The bars of `text` framed by start/stop characters, as [{x, width}] in narrow-module units.
  function bars(text) {
    const chars = ["*", ...text, "*"];
    const result = [];
    let x = QUIET;
    for (const ch of chars) {
      const pattern = PATTERNS[ch];
      if (!pattern) throw new Error(`"${ch}" cannot be encoded in Code 39`);
      [...pattern].forEach((kind, i) => {
        const width = kind === "w" ? WIDE : NARROW;
        if (i % 2 === 0) result.push({ x, width });
        x += width;
      });
      x += NARROW; // inter-character gap
    }
    return { bars: result, width: x - NARROW + QUIET };
  }

  function draw(svg, text) {
    if (text.includes("*")) throw new Error('"*" cannot be encoded in Code 39');
    const { bars: list, width } = bars(text);
    const ns = "http://www.w3.org/2000/svg";
    svg.replaceChildren();
    svg.setAttribute("width", String(width));
    svg.setAttribute("viewBox", `0 0 ${width} 80`);
    const background = document.createElementNS(ns, "rect");
    background.setAttribute("width", String(width));
    background.setAttribute("height", "80");
    background.setAttribute("fill", "#fff");
    svg.append(background);
    for (const bar of list) {
      const rect = document.createElementNS(ns, "rect");
      rect.setAttribute("x", String(bar.x));
      rect.setAttribute("width", String(bar.width));
      rect.setAttribute("height", "80");
      rect.setAttribute("fill", "#000");
      svg.append(rect);
    }
  }

  return { PATTERNS, bars, draw };
})();
