// A print button works only with script on: it is shown here, and stays
// hidden when script is off.
for (const b of document.querySelectorAll("button[data-print]")) {
  b.hidden = false;
  b.addEventListener("click", () => window.print());
}
