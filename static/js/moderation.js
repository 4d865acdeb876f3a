// Keyboard shortcuts for the moderation queue (listed on the page). Every action is also a
// plain form that works without this file; with htmx, the answer replaces the card.
(function () {
  "use strict";

  function cards() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-queue] [data-card]"));
  }

  function currentCard() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("[data-queue] [data-card]") : null;
  }

  function focusCard(card) {
    if (!card) return;
    card.focus();
    card.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var list = cards();
    if (!list.length) return;
    var index = list.indexOf(currentCard());
    if (index === -1) index = step > 0 ? -1 : list.length;
    focusCard(list[Math.min(Math.max(index + step, 0), list.length - 1)]);
  }

  // Where the reader is typing, keys are theirs (a checkbox or a button is not typing).
  function typing(target) {
    return target.closest && target.closest(
      "textarea, select, [contenteditable], input:not([type=checkbox]):not([type=radio])"
    );
  }

  function press(card, selector) {
    var control = card && card.querySelector(selector);
    if (control) control.click();
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || !document.querySelector("[data-queue]")) return;
    var target = event.target;
    // Enter in a card's reason list sends the removal (a select alone does not submit).
    if (event.key === "Enter" && target.matches && target.matches("[data-card] select")) {
      event.preventDefault();
      target.form.requestSubmit();
      return;
    }
    if (typing(target)) return;
    var card = currentCard();
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": press(card, "[data-key=a] button"); break;
      case "r": {
        var reason = card && card.querySelector("[data-key=r] select");
        if (reason) reason.focus();
        break;
      }
      case "o": press(card, "a[data-key=o]"); break;
      case "u": press(card, "[data-key=u] button"); break;
      default: return;
    }
    event.preventDefault();
  });

  // After a decision, go on to the next card that still waits; after an undo, stay on the
  // card that came back.
  document.addEventListener("htmx:afterSettle", function (event) {
    var form = event.detail.requestConfig && event.detail.requestConfig.elt;
    var id = form && form.getAttribute && form.getAttribute("data-card-id");
    var card = id && document.getElementById("card-" + id);
    if (!card) return;
    if (!card.hasAttribute("data-decided")) {
      focusCard(card);
      return;
    }
    var list = cards();
    var waiting = list.slice(list.indexOf(card) + 1).concat(list.slice(0, list.indexOf(card)))
      .filter(function (other) { return !other.hasAttribute("data-decided"); });
    focusCard(waiting.length ? waiting[0] : card);
  });
})();
