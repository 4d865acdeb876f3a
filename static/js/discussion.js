// Small enhancements on top of htmx. Every action also works without this file.
(function () {
  "use strict";

  function countFor(key) {
    return document.getElementById("count-" + key);
  }

  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close-panel]");
    if (close) {
      var key = close.getAttribute("data-close-panel");
      var panel = document.getElementById("panel-" + key);
      if (panel) panel.replaceChildren();
      var count = countFor(key);
      if (count) {
        count.setAttribute("aria-expanded", "false");
        count.focus();
      }
      return;
    }
    var cancel = event.target.closest("[data-close-slot]");
    if (cancel) {
      var slot = cancel.closest(".reply-slot");
      var card = slot && slot.closest(".comment-card");
      if (slot) slot.replaceChildren();
      var reply = card && card.querySelector(".comment-actions a");
      if (reply) reply.focus();
    }
  });

  // Keep the margin control's state in step with its panel, for assistive technology.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (target && target.classList && target.classList.contains("thread-panel")) {
      var count = countFor(target.id.replace(/^panel-/, ""));
      if (count) count.setAttribute("aria-expanded", target.childElementCount > 0 ? "true" : "false");
    }
  });
})();
