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

  function panelFor(key) {
    return document.getElementById("panel-" + key);
  }

  function blockOf(node) {
    var element = node && (node.nodeType === 1 ? node : node.parentElement);
    return element ? element.closest(".block") : null;
  }

  function isOpen(panel) {
    return Boolean(panel) && panel.childElementCount > 0;
  }

  // The comment form of a paragraph's own page (its discussion is not in a panel there).
  function pageFormFor(key) {
    var region = document.getElementById("discussion-" + key);
    if (!region || region.closest(".thread-panel")) return null;
    return region.querySelector(":scope > form.comment-form");
  }

  // --- Quoting a passage: select words in a paragraph, then "Comment on this passage". ---

  // A block whose words can be quoted: on the reading page one with a margin control (its
  // thread opens in its panel), on a paragraph's page the paragraph under discussion.
  function quotableBody(block) {
    if (!block || !block.closest("[data-quote-context]")) return null;
    var key = block.id.slice(2);
    if (!countFor(key) && !pageFormFor(key)) return null;
    return block.querySelector(".block-body");
  }

  // Whole words, as the server widens a passage (quotes.whole_words): a letter or digit, or
  // an apostrophe inside a word.
  var LETTER = /[\p{L}\p{N}]/u;

  function isWordCharacter(text, at) {
    var character = text.charAt(at);
    if (LETTER.test(character)) return true;
    return (character === "'" || character === "\u2019") && at > 0 && at < text.length - 1 &&
      LETTER.test(text.charAt(at - 1)) && LETTER.test(text.charAt(at + 1));
  }

  function wholeWords(text, start, end) {
    while (start > 0 && start < text.length && isWordCharacter(text, start - 1) &&
      isWordCharacter(text, start)) start -= 1;
    while (end > 0 && end < text.length && isWordCharacter(text, end) &&
      isWordCharacter(text, end - 1)) end += 1;
    while (start < end && /\s/.test(text.charAt(start))) start += 1;
    while (end > start && /\s/.test(text.charAt(end - 1))) end -= 1;
    return [start, end];
  }

  // Where a point of the page is in the text of `body`, counted in characters.
  function offsetIn(body, node, offset) {
    var range = document.createRange();
    range.selectNodeContents(body);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  function textNodes(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    return nodes;
  }

  // The range of characters start..end of `body`'s text.
  function rangeOf(body, start, end) {
    var range = document.createRange();
    range.selectNodeContents(body);
    var offset = 0;
    var started = false;
    var ended = false;
    textNodes(body).forEach(function (node) {
      var nodeEnd = offset + node.data.length;
      if (!started && start < nodeEnd) {
        range.setStart(node, start - offset);
        started = true;
      }
      if (started && !ended && end > offset && end <= nodeEnd) {
        range.setEnd(node, end - offset);
        ended = true;
      }
      offset = nodeEnd;
    });
    return range;
  }

  function removeQuoteButton() {
    var old = document.querySelector(".quote-button");
    if (old) old.remove();
    return Boolean(old);
  }

  function selectionInBlock(snapSelection) {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || selection.rangeCount === 0) return null;
    var range = selection.getRangeAt(0);
    var block = blockOf(range.startContainer);
    if (!block || block !== blockOf(range.endContainer)) return null;
    var body = quotableBody(block);
    if (!body || !body.contains(range.startContainer) || !body.contains(range.endContainer)) return null;
    var text = body.textContent;
    var chosen = wholeWords(
      text, offsetIn(body, range.startContainer, range.startOffset),
      offsetIn(body, range.endContainer, range.endOffset)
    );
    var quote = text.slice(chosen[0], chosen[1]).replace(/\s+/g, " ").trim();
    if (!quote) return null;
    var words = rangeOf(body, chosen[0], chosen[1]);
    if (snapSelection) {
      // Show the reader what will be quoted: the selection, widened to whole words.
      selection.removeAllRanges();
      selection.addRange(words);
    }
    return {
      key: block.id.slice(2),
      block: block,
      words: words,
      quote: quote,
      prefix: text.slice(Math.max(0, chosen[0] - contextLength(body)), chosen[0]),
      suffix: text.slice(chosen[1], chosen[1] + contextLength(body)),
    };
  }

  // The button sits at the end of the selection, where the reader is looking; in the page's
  // order it follows the paragraph's text, and Tab from the selection goes to it (below).
  function placeQuoteButton(button, chosen) {
    var rects = chosen.words.getClientRects();
    var last = rects.length ? rects[rects.length - 1] : chosen.words.getBoundingClientRect();
    var frame = chosen.block.getBoundingClientRect();
    var left = Math.min(last.right - frame.left - button.offsetWidth / 2, frame.width - button.offsetWidth);
    button.style.left = Math.max(0, left) + "px";
    button.style.top = last.bottom - frame.top + 6 + "px";
  }

  function offerQuote(snapSelection) {
    var chosen = selectionInBlock(snapSelection);
    var shown = document.querySelector(".quote-button");
    // The same passage still chosen: the button stays (and keeps the focus, if it has it).
    if (chosen && shown && shown.getAttribute("data-quote") === chosen.key + ":" + chosen.quote) return;
    removeQuoteButton();
    if (!chosen) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "quote-button";
    button.textContent = "Comment on this passage";
    button.setAttribute("data-quote", chosen.key + ":" + chosen.quote);
    button.addEventListener("click", function () {
      pendingQuote = chosen;
      removeQuoteButton();
      var form = pageFormFor(chosen.key);
      var panel = panelFor(chosen.key);
      if (form) {
        fillQuote(form, chosen.key);
      } else if (isOpen(panel)) {
        var panelForm = panel.querySelector("form.comment-form");
        if (panelForm) fillQuote(panelForm, chosen.key);
      } else {
        countFor(chosen.key).click();
      }
    });
    chosen.block.querySelector(".block-body").after(button);
    placeQuoteButton(button, chosen);
  }

  function fillQuote(form, key) {
    if (!pendingQuote || key !== pendingQuote.key || !form) return;
    form.querySelector("[data-quote-input]").value = pendingQuote.quote;
    form.querySelector("[data-quote-prefix]").value = pendingQuote.prefix;
    form.querySelector("[data-quote-suffix]").value = pendingQuote.suffix;
    pendingQuote = null;
    refreshQuoteHighlights();
    var textarea = form.querySelector("textarea");
    textarea.focus();
    textarea.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("mouseup", function (event) {
    if (event.target.closest && event.target.closest(".quote-button")) return;
    window.setTimeout(function () { offerQuote(true); }, 0);
  });
  // Selecting with the keyboard: Shift with the arrows, Home, End, Page Up or Down.
  document.addEventListener("keyup", function (event) {
    if (event.key === "Shift" || (event.shiftKey && /^(Arrow|Home|End|Page)/.test(event.key))) {
      offerQuote(false);
    }
  });

  // Tab from a selection goes to its button first (from where the reader is, not from
  // wherever the browser's focus happened to be).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Tab" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
    var button = document.querySelector(".quote-button");
    var active = document.activeElement;
    if (!button || active === button) return;
    // A click in the text focuses the page's <main> (or leaves the body focused): both hold
    // the selection's block; anything else the reader focused keeps its Tab.
    if (active && !active.contains(button) && !button.closest(".block").contains(active)) return;
    event.preventDefault();
    button.focus();
  });

  // --- Highlights: marking passages of a paragraph's text. ---

  function unmark(body, className) {
    body.querySelectorAll("mark." + className).forEach(function (mark) {
      var parent = mark.parentNode;
      while (mark.firstChild) parent.insertBefore(mark.firstChild, mark);
      parent.removeChild(mark);
      parent.normalize();
    });
  }

  function mark(body, quote, prefix, className) {
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
      highlight.className = className;
      range.surroundContents(highlight);
    });
  }

  // --- Discussed passages: highlighted all the time, unless the reader hides them. ---

  // What every reader's comments quote is in the page (data-passages, the same for everyone);
  // overlapping passages nest their marks, and a passage read by more reads darker.
  var HIDDEN_PASSAGES = "margins:passages-hidden";

  function markDiscussedPassages() {
    var any = false;
    document.querySelectorAll(".block-body[data-passages]").forEach(function (body) {
      var passages;
      try {
        passages = JSON.parse(body.getAttribute("data-passages"));
      } catch (error) {
        return;
      }
      passages.forEach(function (passage) {
        mark(body, passage.quote, passage.prefix, "passage-mark");
      });
      any = any || passages.length > 0;
    });
    var toggle = document.querySelector("[data-passage-toggle]");
    if (!toggle || !any) return;
    var button = toggle.querySelector("button");
    var hidden = false;
    try {
      hidden = window.localStorage.getItem(HIDDEN_PASSAGES) === "1";
    } catch (error) { /* storage refused: shown */ }
    showPassages(button, !hidden);
    toggle.hidden = false;
    button.addEventListener("click", function () {
      var show = button.getAttribute("aria-pressed") !== "true";
      showPassages(button, show);
      try {
        if (show) window.localStorage.removeItem(HIDDEN_PASSAGES);
        else window.localStorage.setItem(HIDDEN_PASSAGES, "1");
      } catch (error) { /* remembered for this page only */ }
    });
  }

  function showPassages(button, show) {
    button.setAttribute("aria-pressed", show ? "true" : "false");
    document.documentElement.classList.toggle("passages-hidden", !show);
  }

  markDiscussedPassages(); // this script is deferred: the page is parsed

  // --- The quoted passages of an open discussion, marked in its paragraph. ---

  // Each open discussion and the text it is about: a panel and its block on the reading
  // page, the page's discussion and its paragraph on a paragraph's page.
  function quoteScopes() {
    var scopes = [];
    document.querySelectorAll(".thread-panel").forEach(function (panel) {
      var body = panel.closest(".block").querySelector(".block-body");
      if (body) scopes.push({ container: panel, body: body });
    });
    document.querySelectorAll(".paragraph-context .context-focus[id]").forEach(function (block) {
      var region = document.getElementById("discussion-" + block.id.slice(2));
      var body = block.querySelector(".block-body");
      if (region && body) scopes.push({ container: region, body: body });
    });
    return scopes;
  }

  function refreshQuoteHighlights() {
    quoteScopes().forEach(function (scope) {
      unmark(scope.body, "quote-highlight");
      scope.container.querySelectorAll(".comment-quote:not([data-lost])").forEach(function (quote) {
        mark(scope.body, quote.getAttribute("data-quote"), quote.getAttribute("data-prefix"), "quote-highlight");
      });
      var input = scope.container.querySelector("[data-quote-input]");
      if (input && input.value) {
        mark(scope.body, input.value, scope.container.querySelector("[data-quote-prefix]").value, "quote-highlight");
      }
    });
  }

  refreshQuoteHighlights();

  // --- Opening and closing panels and reply forms. ---

  var opened = []; // the keys of the open panels, the last opened last (for Escape)

  // Words written in a thread that is closed wait for it to open again (closing is not
  // throwing away): kept here by the panel's key and the text box's id.
  var unsentDrafts = {};

  function keepDrafts(key, panel) {
    panel.querySelectorAll("textarea").forEach(function (textarea) {
      if (textarea.id && textarea.value.trim()) {
        unsentDrafts[key] = unsentDrafts[key] || {};
        unsentDrafts[key][textarea.id] = textarea.value;
      }
    });
  }

  function restoreDrafts(key, panel) {
    var kept = unsentDrafts[key];
    if (!kept) return;
    Object.keys(kept).forEach(function (id) {
      var textarea = panel.querySelector("textarea#" + CSS.escape(id));
      if (textarea && !textarea.value.trim()) {
        textarea.value = kept[id];
        textarea.dispatchEvent(new Event("input", { bubbles: true }));  // the live count
      }
    });
    delete unsentDrafts[key];
  }

  function closePanel(key) {
    opened = opened.filter(function (each) { return each !== key; });
    var panel = panelFor(key);
    if (panel) {
      var body = panel.closest(".block").querySelector(".block-body");
      if (body) unmark(body, "quote-highlight");
      keepDrafts(key, panel);
      panel.replaceChildren();
    }
    var count = countFor(key);
    if (count) {
      count.setAttribute("aria-expanded", "false");
      count.focus();
    }
    layoutMarginThreads();
  }

  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close-panel]");
    if (close) {
      closePanel(close.getAttribute("data-close-panel"));
      return;
    }
    var cancel = event.target.closest("[data-close-slot]");
    if (cancel) {
      var slot = cancel.closest(".reply-slot");
      var card = slot && slot.closest(".comment-card");
      // Back to the control that opened the form: Edit for an edit, else Reply.
      var editing = slot && slot.querySelector(".comment-edit-form");
      if (slot) slot.replaceChildren();
      var actions = card && card.querySelector(".comment-actions");
      var control = actions && (
        (editing && actions.querySelector("a[href$='/edit/']")) || actions.querySelector("a")
      );
      if (control) control.focus();
    }
  });

  // The margin control is a disclosure: pressed again, it closes its open thread (a panel
  // that holds only a refusal, "briefly unavailable", asks again instead).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var count = event.detail.elt;
    if (!count.classList || !count.classList.contains("margin-count")) return;
    var key = count.id.replace(/^count-/, "");
    var panel = panelFor(key);
    if (panel && panel.querySelector(".discussion") && event.detail.requestConfig.verb === "get") {
      event.preventDefault();
      closePanel(key);
    }
  });

  // Escape closes the thread the focus is in (or the one opened last) and gives the focus
  // back to its margin control; it never throws away words being written.
  function panelToClose() {
    var active = document.activeElement;
    if (active && active.matches("textarea, input[type='text']") && active.value.trim()) return null;
    var within = active && active.closest(".thread-panel");
    if (within && isOpen(within)) return within.id.replace(/^panel-/, "");
    if (active && active.matches(".margin-count[aria-expanded='true']")) return active.id.replace(/^count-/, "");
    opened = opened.filter(function (key) { return isOpen(panelFor(key)); });
    return opened.length ? opened[opened.length - 1] : null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    var key = panelToClose();
    if (key) {
      event.preventDefault();
      removeQuoteButton();
      closePanel(key);
    } else if (removeQuoteButton()) {
      event.preventDefault();
    }
  });

  // Keep the margin control's state in step with its panel, and mark the quoted passages.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    var panel = target && target.closest ? target.closest(".thread-panel") : null;
    if (panel) {
      var key = panel.id.replace(/^panel-/, "");
      var count = countFor(key);
      if (count) count.setAttribute("aria-expanded", isOpen(panel) ? "true" : "false");
      opened = opened.filter(function (each) { return each !== key; });
      if (isOpen(panel)) {
        opened.push(key);
        restoreDrafts(key, panel);
      }
      fillQuote(panel.querySelector("form.comment-form"), key);
      layoutMarginThreads();
      // Moved into the margin after htmx put the focus in it: keep the focus in view.
      if (panel.contains(document.activeElement)) document.activeElement.scrollIntoView({ block: "nearest" });
    }
    refreshQuoteHighlights();
  });

  // --- Threads in the margin (wide screens): beside their paragraphs, never overlapping. ---

  // site.css places an open thread beside its paragraph, out of the text's flow. Here each
  // one is kept short enough to leave the next open thread beside its own paragraph (it
  // scrolls on its own), but never shorter than MARGIN_THREAD_MIN; then moved down, never
  // up, past the bottom of the thread above it.
  var WIDE = window.matchMedia("(min-width: 78rem)");
  var MARGIN_THREAD_GAP = 12;
  var MARGIN_THREAD_MIN = 240;
  var layoutPending = false;

  function layoutMarginThreads() {
    var open = [];
    document.querySelectorAll(".essay .thread-panel").forEach(function (panel) {
      panel.style.top = "";
      panel.style.maxHeight = "";
      if (WIDE.matches && isOpen(panel)) open.push(panel);
    });
    var naturals = open.map(function (panel) {
      return panel.getBoundingClientRect().top + window.scrollY;
    });
    var below = -Infinity;
    open.forEach(function (panel, i) {
      var top = Math.max(naturals[i], below);
      if (top > naturals[i]) panel.style.top = top - naturals[i] + "px";
      if (i + 1 < open.length) {
        var room = naturals[i + 1] - MARGIN_THREAD_GAP - top;
        if (panel.offsetHeight > room) panel.style.maxHeight = Math.max(room, MARGIN_THREAD_MIN) + "px";
      }
      below = top + panel.offsetHeight + MARGIN_THREAD_GAP;
    });
  }

  function layoutSoon() {
    if (layoutPending) return;
    layoutPending = true;
    window.requestAnimationFrame(function () {
      layoutPending = false;
      layoutMarginThreads();
    });
  }

  // A thread grows (a reply form, a preview) or the text reflows: lay the threads out again.
  if (window.ResizeObserver) {
    var resized = new ResizeObserver(layoutSoon);
    document.querySelectorAll(".essay .thread-panel, .essay .essay-body").forEach(function (element) {
      resized.observe(element);
    });
  }
  window.addEventListener("resize", layoutSoon);

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
        if (panel) refreshQuoteHighlights();
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
