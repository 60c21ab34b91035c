// The review page's live preview: the form is posted (with its CSRF token) as the curator types.
(function () {
  const form = document.getElementById("mapping-form");
  const preview = document.getElementById("preview");
  if (!form || !preview) { return; }
  let timer = null;
  function refresh() {
    preview.classList.add("loading");
    fetch(form.dataset.previewUrl, {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) { preview.innerHTML = html; })
      .catch(function (status) { preview.insertAdjacentHTML("afterbegin", "<p class='errornote'>Preview failed (" + status + ").</p>"); })
      .finally(function () { preview.classList.remove("loading"); });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 350); });
  form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(refresh, 50); });
})();
