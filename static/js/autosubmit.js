// Filters submit themselves when changed (the button stays for keyboards and for no-JavaScript).
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
});
