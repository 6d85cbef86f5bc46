// The console's only script (Content-Security-Policy: script-src 'self', no inline script).
// "Back" links go to the previous page when there is one, else to their href (the home page).
document.addEventListener("click", function (event) {
  var link = event.target.closest("[data-back]");
  if (link && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
});
