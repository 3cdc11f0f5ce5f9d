/* policywatch: optional enhancements. Every page reads fine without this script.
 * - index.html: filter the changes by category and document, over index.json.
 * - change pages: remember the diff view (inline / side by side).
 * Data from index.json is crawled and hostile: it is only ever set as textContent or as
 * attributes this script builds and checks; never as HTML. */
(function () {
  "use strict";

  var MAX_SHOWN = 500;
  var SLUG = /^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$/;
  var VIEW_KEY = "policywatch.diffView";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* --- diff view ---------------------------------------------------------------------- */

  function setupDiffToggle() {
    var box = document.querySelector(".diff-views");
    if (!box) return;
    var radios = box.querySelectorAll('input[name="diff-view"]');
    if (!radios.length) return;
    function apply(value) {
      box.setAttribute("data-view", value === "side" ? "side" : "inline");
    }
    var saved = null;
    try { saved = window.localStorage.getItem(VIEW_KEY); } catch (e) { saved = null; }
    Array.prototype.forEach.call(radios, function (radio) {
      if (saved && radio.value === saved) radio.checked = true;
      radio.addEventListener("change", function () {
        if (!radio.checked) return;
        apply(radio.value);
        try { window.localStorage.setItem(VIEW_KEY, radio.value); } catch (e) { /* private mode */ }
      });
    });
    var checked = box.querySelector('input[name="diff-view"]:checked');
    apply(checked ? checked.value : "inline");
  }

  /* --- filters on the index ----------------------------------------------------------- */

  function changeItem(rec) {
    var id = Number(rec.id);
    if (!Number.isInteger(id) || id < 0) return null;
    var li = el("li", "change");
    var h = el("h2");
    var a = el("a", null, rec.title);
    a.setAttribute("href", "changes/" + id + ".html");
    h.appendChild(a);
    li.appendChild(h);

    var meta = el("p", "meta");
    var doc = String(rec.document || "");
    if (SLUG.test(doc)) {
      var docLink = el("a", null, rec.document_title);
      docLink.setAttribute("href", "documents/" + doc + ".html");
      meta.appendChild(docLink);
      meta.appendChild(document.createTextNode(" · "));
    }
    meta.appendChild(document.createTextNode("recorded "));
    var time = el("time", null, rec.detected_text);
    time.setAttribute("datetime", String(rec.detected || ""));
    meta.appendChild(time);
    meta.appendChild(document.createTextNode(" · effective " + (rec.effective || "date not stated")));
    if (rec.has_diff) {
      meta.appendChild(document.createTextNode(" · "));
      var counts = el("span", "counts");
      counts.appendChild(el("span", "added", "+" + Number(rec.words_added || 0)));
      counts.appendChild(document.createTextNode(" "));
      counts.appendChild(el("span", "removed", "\u2212" + Number(rec.words_removed || 0)));
      meta.appendChild(counts);
    }
    li.appendChild(meta);

    var cats = Array.isArray(rec.categories) ? rec.categories : [];
    if (cats.length) {
      var ul = el("ul", "badges");
      ul.setAttribute("aria-label", "Categories");
      cats.forEach(function (cat) { ul.appendChild(el("li", "badge", cat)); });
      li.appendChild(ul);
    }
    if (rec.summary) li.appendChild(el("p", "one-line", rec.summary));
    return li;
  }

  function matches(categories, documentSlug, category, docFilter) {
    if (category && categories.indexOf(category) < 0) return false;
    return !docFilter || documentSlug === docFilter;
  }

  /* Search: every word of the query must occur in the change's title, summary, document,
     categories or dates (case and accents ignored). Runs on index.json: nothing leaves. */
  function fold(text) {
    var s = String(text || "").toLowerCase();
    return s.normalize ? s.normalize("NFD").replace(/[\u0300-\u036f]/g, "") : s;
  }

  function words(query) {
    return fold(query).split(/\s+/).filter(function (w) { return w.length > 0; });
  }

  function found(haystack, wanted) {
    var text = fold(haystack);
    return wanted.every(function (w) { return text.indexOf(w) >= 0; });
  }

  function recordText(r) {
    var cats = Array.isArray(r.categories) ? r.categories.join(" ") : "";
    return [r.title, r.summary, r.document_title, cats, r.effective, r.detected_text].join(" ");
  }

  function setupFilters() {
    var form = document.getElementById("filters");
    var list = document.getElementById("change-list");
    var status = document.getElementById("filter-status");
    if (!form || !list || !status) return;
    var category = form.elements.namedItem("category");
    var docSelect = form.elements.namedItem("document");
    var search = form.elements.namedItem("q");
    var original = Array.prototype.slice.call(list.children);
    var loading = null;

    function load() {
      if (!loading) {
        loading = window.fetch(form.getAttribute("data-index"), { credentials: "same-origin" })
          .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
          .then(function (data) { return data && Array.isArray(data.changes) ? data.changes : null; })
          .catch(function () { return null; });  /* file://: filter what the page holds */
      }
      return loading;
    }

    function select(control, value) {
      Array.prototype.forEach.call(control.options, function (o) {
        if (o.value === value) control.value = value;
      });
    }

    function remember(cat, doc, q) {
      var params = new URLSearchParams();
      if (cat) params.set("category", cat);
      if (doc) params.set("document", doc);
      if (q) params.set("q", q);
      var query = params.toString();
      try {
        window.history.replaceState(null, "", query ? "?" + query : window.location.pathname);
      } catch (e) { /* some file:// contexts refuse it */ }
    }

    function show(items, total, cat, doc, q) {
      list.replaceChildren.apply(list, items);
      var what = [];
      if (cat) what.push("category \u201c" + cat + "\u201d");
      if (doc) what.push("document \u201c" + (docSelect.selectedOptions[0] || {}).textContent + "\u201d");
      status.textContent = total + " change" + (total === 1 ? "" : "s") +
        (what.length ? " in " + what.join(" and ") : "") +
        (q ? " matching \u201c" + q + "\u201d" : "") +
        (items.length < total ? " (the newest " + items.length + " shown)" : "") + ".";
    }

    function update() {
      var cat = category.value;
      var doc = docSelect.value;
      var q = search ? search.value.trim() : "";
      var wanted = words(q);
      remember(cat, doc, q);
      if (!cat && !doc && !wanted.length) {
        list.replaceChildren.apply(list, original);
        status.textContent = "";
        return;
      }
      load().then(function (records) {
        if (cat !== category.value || doc !== docSelect.value) return;  /* changed meanwhile */
        if (search && q !== search.value.trim()) return;
        if (records) {
          var hits = records.filter(function (r) {
            var cats = Array.isArray(r.categories) ? r.categories : [];
            return matches(cats, r.document, cat, doc) && found(recordText(r), wanted);
          });
          var items = hits.slice(0, MAX_SHOWN).map(changeItem).filter(Boolean);
          show(items, hits.length, cat, doc, q);
        } else {
          var kept = original.filter(function (li) {
            var cats = [];
            try { cats = JSON.parse(li.getAttribute("data-categories") || "[]"); } catch (e) { cats = []; }
            return matches(cats, li.getAttribute("data-document"), cat, doc) &&
              found(li.textContent, wanted);
          });
          show(kept, kept.length, cat, doc, q);
        }
      });
    }

    var params = new URLSearchParams(window.location.search);
    select(category, params.get("category") || "");
    select(docSelect, params.get("document") || "");
    if (search) {
      search.value = params.get("q") || "";
      var timer = null;
      search.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(update, 150);
      });
    }
    form.addEventListener("change", update);
    form.addEventListener("submit", function (e) { e.preventDefault(); update(); });
    form.hidden = false;
    if (category.value || docSelect.value || (search && search.value)) update();
  }

  function start() {
    setupDiffToggle();
    setupFilters();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
