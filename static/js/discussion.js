// Small enhancements on top of htmx. Every action also works without this file.
(function () {
  "use strict";

  var pendingQuote = null;

  // Characters of context kept around a quoted passage: the server's number, from the page.
  function contextLength(body) {
    return Number(body.closest("[data-quote-context]").getAttribute("data-quote-context"));
  }

  function countFor(key) {
    return document.getElementById("count-" + key);
  }

  function blockOf(node) {
    var element = node && (node.nodeType === 1 ? node : node.parentElement);
    return element ? element.closest(".block") : null;
  }

  // --- Quoting a passage: select words in a paragraph, then "Comment on this passage". ---

  function removeQuoteButton() {
    var old = document.querySelector(".quote-button");
    if (old) old.remove();
  }

  function selectionInBlock() {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || selection.rangeCount === 0) return null;
    var range = selection.getRangeAt(0);
    var block = blockOf(range.startContainer);
    if (!block || block !== blockOf(range.endContainer) || !countFor(block.id.slice(2))) return null;
    var body = block.querySelector(".block-body");
    if (!body || !body.contains(range.startContainer) || !body.contains(range.endContainer)) return null;
    var quote = range.toString().replace(/\s+/g, " ").trim();
    if (!quote) return null;
    var before = document.createRange();
    before.selectNodeContents(body);
    before.setEnd(range.startContainer, range.startOffset);
    var after = document.createRange();
    after.selectNodeContents(body);
    after.setStart(range.endContainer, range.endOffset);
    return {
      key: block.id.slice(2),
      block: block,
      quote: quote,
      prefix: before.toString().slice(-contextLength(body)),
      suffix: after.toString().slice(0, contextLength(body)),
    };
  }

  function offerQuote() {
    removeQuoteButton();
    var chosen = selectionInBlock();
    if (!chosen) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "quote-button";
    button.textContent = "Comment on this passage";
    button.addEventListener("click", function () {
      pendingQuote = chosen;
      removeQuoteButton();
      var panel = document.getElementById("panel-" + chosen.key);
      if (panel && panel.querySelector("form.comment-form")) {
        fillQuote(panel);
      } else {
        countFor(chosen.key).click();
      }
    });
    var panel = chosen.block.querySelector(".thread-panel");
    chosen.block.insertBefore(button, panel);
  }

  function fillQuote(panel) {
    if (!pendingQuote || panel.id !== "panel-" + pendingQuote.key) return;
    var form = panel.querySelector("form.comment-form");
    if (!form) return;
    form.querySelector("[data-quote-input]").value = pendingQuote.quote;
    form.querySelector("[data-quote-prefix]").value = pendingQuote.prefix;
    form.querySelector("[data-quote-suffix]").value = pendingQuote.suffix;
    pendingQuote = null;
    highlightQuotes(panel);
    form.querySelector("textarea").focus();
  }

  document.addEventListener("mouseup", function () { window.setTimeout(offerQuote, 0); });
  document.addEventListener("keyup", function (event) {
    if (event.shiftKey || event.key === "Shift") offerQuote();
  });

  // --- Highlighting the quoted passages of an open thread in its paragraph. ---

  function unmark(body) {
    body.querySelectorAll("mark.quote-highlight").forEach(function (mark) {
      var parent = mark.parentNode;
      while (mark.firstChild) parent.insertBefore(mark.firstChild, mark);
      parent.removeChild(mark);
      parent.normalize();
    });
  }

  function textNodes(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    return nodes;
  }

  function mark(body, quote, prefix) {
    var nodes = textNodes(body);
    var text = nodes.map(function (n) { return n.data; }).join("");
    var start = -1;
    var at = text.indexOf(quote);
    while (at !== -1) {
      if (start === -1 || (prefix && text.slice(Math.max(0, at - prefix.length), at) === prefix)) start = at;
      at = text.indexOf(quote, at + 1);
    }
    if (start === -1) return;
    var end = start + quote.length;
    var offset = 0;
    nodes.forEach(function (node) {
      var nodeStart = offset;
      var nodeEnd = offset + node.data.length;
      offset = nodeEnd;
      if (nodeEnd <= start || nodeStart >= end) return;
      var range = document.createRange();
      range.setStart(node, Math.max(start, nodeStart) - nodeStart);
      range.setEnd(node, Math.min(end, nodeEnd) - nodeStart);
      var highlight = document.createElement("mark");
      highlight.className = "quote-highlight";
      range.surroundContents(highlight);
    });
  }

  function highlightQuotes(panel) {
    var block = panel.closest(".block");
    var body = block && block.querySelector(".block-body");
    if (!body) return;
    unmark(body);
    panel.querySelectorAll(".comment-quote:not([data-lost])").forEach(function (quote) {
      mark(body, quote.getAttribute("data-quote"), quote.getAttribute("data-prefix"));
    });
    var input = panel.querySelector("[data-quote-input]");
    if (input && input.value) mark(body, input.value, panel.querySelector("[data-quote-prefix]").value);
  }

  // --- Opening and closing panels and reply forms. ---

  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close-panel]");
    if (close) {
      var key = close.getAttribute("data-close-panel");
      var panel = document.getElementById("panel-" + key);
      if (panel) {
        var body = panel.closest(".block").querySelector(".block-body");
        if (body) unmark(body);
        panel.replaceChildren();
      }
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

  // Keep the margin control's state in step with its panel, and mark the quoted passages.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    var panel = target && target.closest ? target.closest(".thread-panel") : null;
    if (!panel) return;
    var count = countFor(panel.id.replace(/^panel-/, ""));
    if (count) count.setAttribute("aria-expanded", panel.childElementCount > 0 ? "true" : "false");
    fillQuote(panel);
    highlightQuotes(panel);
  });

  // --- Live threads: an open discussion says when others have written in it. ---

  // Each open discussion (a panel, a paragraph's page, the essay's own) asks its
  // data-live-url at once for the moment to count from (X-Live-Since), then whether others
  // have written since, as often as the server says (X-Poll-Interval), only while it is on
  // the page and the tab is seen. It sends back the ETag it was given: nothing changed
  // costs the server a 304 and no database query. fetch, not htmx polling: htmx sends no
  // If-None-Match of its own, and the status line must change only when the answer does
  // (a screen reader reads it out each time it changes).
  var DEFAULT_POLL_SECONDS = 20;
  var watched = new Map();

  function watch(region) {
    if (watched.has(region)) return;
    // The status line exists before anything is said in it, so that it is announced.
    var status = document.createElement("p");
    status.className = "live-notice";
    status.setAttribute("role", "status");
    var heading = region.querySelector(":scope > h2");
    if (heading) heading.after(status);
    else region.prepend(status);
    watched.set(region, {
      status: status,
      since: null, // the moment to count from, once the server has named it
      etag: null,
      said: "",
      seconds: DEFAULT_POLL_SECONDS,
    });
    poll(region);
  }

  function poll(region) {
    var state = watched.get(region);
    if (!state || state.busy || state.gone) return;
    window.clearTimeout(state.timer);
    state.timer = null;
    if (!region.isConnected) {
      watched.delete(region); // closed, or replaced: its successor is watched on its own
      return;
    }
    // Asked again when seen; but the moment to count from is asked at once, even in a tab
    // opened in the background, so that nothing written meanwhile is missed.
    if (document.visibilityState === "hidden" && state.since) return;
    state.busy = true;
    var headers = state.etag ? { "If-None-Match": state.etag } : {};
    var url = region.getAttribute("data-live-url");
    if (state.since) url += "?since=" + encodeURIComponent(state.since);
    fetch(url, { headers: headers, cache: "no-store" })
      .then(function (response) {
        var seconds = Number(response.headers.get("X-Poll-Interval"));
        if (seconds >= 1) state.seconds = seconds;
        var since = response.headers.get("X-Live-Since");
        if (since && response.ok) {
          state.since = since;
          return null;
        }
        if (response.status === 404 || response.status === 410) {
          state.gone = true; // the discussion is no more (a revision, an unpublished essay)
          return null;
        }
        if (response.status === 304 || !response.ok) return null; // the same, or ask later
        state.etag = response.headers.get("ETag");
        return response.status === 204 ? "" : response.text();
      })
      .then(function (html) {
        if (html === null || html === state.said) return;
        state.said = html;
        state.status.innerHTML = html;
      })
      .catch(function () {}) // offline for a moment: ask again later
      .then(function () {
        state.busy = false;
        if (state.gone) {
          // Kept in `watched`, asking nothing: watchAll must not start it again.
        } else if (region.isConnected && document.visibilityState !== "hidden") {
          state.timer = window.setTimeout(function () { poll(region); }, state.seconds * 1000);
        } else if (!region.isConnected) {
          watched.delete(region);
        }
      });
  }

  function watchAll() {
    document.querySelectorAll("[data-live-url]").forEach(watch);
  }

  document.addEventListener("visibilitychange", function () {
    watched.forEach(function (state, region) {
      if (document.visibilityState === "hidden") {
        window.clearTimeout(state.timer);
        state.timer = null;
      } else {
        poll(region);
      }
    });
  });

  document.addEventListener("htmx:afterSettle", watchAll);
  watchAll(); // this script is deferred: the page is parsed

  // "Show": the discussion again, in the reader's order, with what they were writing kept
  // as it was (the discussion's form, an open reply form), and the focus on the first new
  // comment. The region is replaced by hand, not by an htmx swap, to carry those forms over.
  function keepWriting(old, fresh) {
    var form = old.querySelector(":scope > form.comment-form");
    var freshForm = fresh.querySelector(":scope > form.comment-form");
    if (form && freshForm) freshForm.replaceWith(form);
    old.querySelectorAll(".reply-slot").forEach(function (slot) {
      var freshSlot = slot.childElementCount > 0 && fresh.querySelector("#" + CSS.escape(slot.id));
      if (freshSlot) freshSlot.replaceWith(slot);
    });
  }

  function showNew(region, button) {
    button.disabled = true;
    // A panel comes from its htmx-only address; a page's discussion from the page itself.
    var headers = region.closest(".thread-panel") ? { "HX-Request": "true" } : {};
    fetch(region.getAttribute("data-live-reload"), { headers: headers })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.text();
      })
      .then(function (html) {
        var parsed = new DOMParser().parseFromString(html, "text/html");
        var found = parsed.getElementById(region.id);
        if (!found) throw new Error("no discussion in the answer");
        var fresh = document.adoptNode(found);
        var shown = new Set();
        region.querySelectorAll("li.comment[id]").forEach(function (li) { shown.add(li.id); });
        keepWriting(region, fresh);
        fresh.querySelectorAll("[autofocus]").forEach(function (el) { el.removeAttribute("autofocus"); });
        region.replaceWith(fresh);
        if (window.htmx) window.htmx.process(fresh);
        var panel = fresh.closest(".thread-panel");
        if (panel) highlightQuotes(panel);
        var first = Array.prototype.find.call(fresh.querySelectorAll("li.comment[id]"), function (li) {
          return !shown.has(li.id);
        });
        var target = first ? first.querySelector(".comment-card") : fresh.querySelector("h2");
        if (target) {
          if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
          target.focus();
        }
        watch(fresh);
      })
      .catch(function () { button.disabled = false; }); // try again with the same button
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-live-show]");
    var region = button && button.closest("[data-live-url]");
    if (region) showNew(region, button);
  });

  // --- A live count of characters, instead of the browser's silent cut at the limit. ---

  // A comment's textarea carries the server's limit in maxlength, which stops typing and
  // cuts a paste short without a word. Here the reader sees the count as they write; the
  // cut is lifted, and a text past the limit says by how much (the server refuses it in
  // the same words, keeping the text). Counted as the server counts: characters, not
  // UTF-16 units, with line breaks as one.
  function formatCount(number) {
    return number.toLocaleString("en"); // "10,000", as the server writes it
  }

  function countCharacters(textarea) {
    var limit = Number(textarea.getAttribute("data-max-length") || textarea.getAttribute("maxlength"));
    if (!limit || !textarea.id) return;
    if (textarea.hasAttribute("maxlength")) {
      textarea.setAttribute("data-max-length", String(limit));
      textarea.removeAttribute("maxlength");
    }
    var id = textarea.id + "-count";
    var counter = document.getElementById(id);
    if (!counter) {
      counter = document.createElement("p");
      counter.className = "char-count";
      counter.id = id;
      var help = document.getElementById(textarea.id + "-help");
      (help || textarea).after(counter);
      var described = textarea.getAttribute("aria-describedby");
      textarea.setAttribute("aria-describedby", (described ? described + " " : "") + id);
    }
    var length = Array.from(textarea.value.replace(/\r\n/g, "\n")).length;
    var over = length - limit;
    counter.textContent = formatCount(length) + " of " + formatCount(limit) + " characters" +
      (over > 0 ? ": " + formatCount(over) + " over the limit" : "");
    counter.classList.toggle("char-count--over", over > 0);
    // Read out only near the limit: a screen reader need not hear every keystroke.
    counter.setAttribute("aria-live", length >= limit * 0.9 ? "polite" : "off");
  }

  function countAllCharacters() {
    document.querySelectorAll("form.comment-form textarea[maxlength]").forEach(countCharacters);
  }

  document.addEventListener("input", function (event) {
    var textarea = event.target.closest && event.target.closest("form.comment-form textarea");
    if (textarea) countCharacters(textarea);
  });
  document.addEventListener("focusin", function (event) {
    var textarea = event.target.closest && event.target.closest("form.comment-form textarea");
    if (textarea) countCharacters(textarea);
  });
  document.addEventListener("htmx:afterSettle", countAllCharacters);
  countAllCharacters();

  // --- A brief outage: the server answers 503 with a message, which htmx does not swap. ---

  // Show it where a form shows its refusals, leaving the form and the reader's text as they
  // are; or in the panel or reply slot being opened. Never in place of what the reader sees.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (detail.xhr.status !== 503) return;
    var form = detail.requestConfig.elt.closest("form");
    if (form) {
      var errors = form.querySelector(":scope > .form-errors");
      var label = form.querySelector(":scope > label");
      detail.target = errors || label || form;
      detail.swapOverride = errors ? "outerHTML" : label ? "beforebegin" : "afterbegin";
    } else if (detail.target.childElementCount > 0) {
      return;
    }
    detail.shouldSwap = true;
  });
})();
