// The pages' few behaviours, in a static file because the Content-Security-Policy allows no inline script.

// The language menu switches as soon as a language is chosen.
document.querySelectorAll("select.autosubmit").forEach((select) =>
  select.addEventListener("change", () => select.form.submit()));

// Keyboard entry on the sample page: Enter in a result saves it; the next result field gets the focus
// after the reload.
document.querySelectorAll(".result-form").forEach((form, i) => form.addEventListener("submit", () =>
  sessionStorage.setItem("opentic-next-result", String(i))));
const nextResult = sessionStorage.getItem("opentic-next-result");
if (nextResult !== null && document.querySelector(".result-value")) {
  sessionStorage.removeItem("opentic-next-result");
  const fields = document.querySelectorAll(".result-value");
  (fields[Number(nextResult)] || fields[0])?.focus();
}
