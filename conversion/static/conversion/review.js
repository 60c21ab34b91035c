// The review page: the live preview (the form is posted, with its CSRF token, as the curator types), which also
// checks the edits and marks the fields it refuses; a mark on each card with unsaved edits; and a warning before
// leaving the page with unsaved edits (Approve and Reject save them: they submit this same form).
(function () {
  const form = document.getElementById("mapping-form");
  const preview = document.getElementById("preview");
  if (!form || !preview) { return; }
  let timer = null;
  let dirty = false;

  function markInvalid() {
    const report = preview.querySelector("[data-invalid-fields]");
    const invalid = new Set(report ? report.dataset.invalidFields.split(" ").filter(Boolean) : []);
    form.querySelectorAll(".mapping-card input, .mapping-card select").forEach(function (input) {
      if (!input.name) { return; }
      if (invalid.has(input.name)) { input.setAttribute("aria-invalid", "true"); }
      else { input.removeAttribute("aria-invalid"); }
    });
    form.querySelectorAll(".mapping-card").forEach(function (card) {
      card.classList.toggle("invalid", card.querySelector("[aria-invalid=true]") !== null);
    });
  }

  function refresh() {
    preview.classList.add("loading");
    fetch(form.dataset.previewUrl, {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) { preview.innerHTML = html; markInvalid(); })
      .catch(function (status) { preview.insertAdjacentHTML("afterbegin", "<p class='errornote'>Preview failed (" + status + ").</p>"); })
      .finally(function () { preview.classList.remove("loading"); });
  }

  function edited(event) {
    const card = event.target.closest(".mapping-card");
    if (!card || event.target.name === undefined || event.target.name.startsWith("card_reason_")) { return; }
    dirty = true;
    card.classList.add("unsaved");
    if (!card.querySelector(".unsaved-flag")) {  // made here, not on every card of the page: it is rarely needed
      const flag = document.createElement("span");
      flag.className = "unsaved-flag";
      flag.textContent = "unsaved edits";
      card.querySelector(".card-head h3").after(flag);
    }
    const approve = card.querySelector("button.approve");
    if (approve) { approve.textContent = "Save and approve"; }
  }

  form.addEventListener("input", function (event) { edited(event); clearTimeout(timer); timer = setTimeout(refresh, 350); });
  form.addEventListener("change", function (event) { edited(event); clearTimeout(timer); timer = setTimeout(refresh, 50); });
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
})();
