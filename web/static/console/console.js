// The advisors' console: live intake search.
//
// While the advisor types call notes, the page asks /console/search.json (debounced, 250 ms) and shows the
// ranked matches. Everything that came from the server or the advisor is put into the page with textContent,
// never as markup. The page's wording is read from data-* attributes of #intake-messages (in the template).
(function () {
  "use strict";

  var DEBOUNCE_MS = 250;

  function setup() {
    var form = document.getElementById("intake-form");
    var messages = document.getElementById("intake-messages");
    if (!form || !messages) {
      return;
    }
    var notes = document.getElementById("notes");
    var results = document.getElementById("results");
    var status = document.getElementById("search-status");
    var openButton = document.getElementById("open-request");
    var chosenSummary = document.getElementById("chosen-summary");
    var text = messages.dataset;
    var chosen = new Map(); // entry id -> name, in the order ticked
    var timer = null;
    var controller = null;
    var sequence = 0;

    function message(name, values) {
      var template = text[name] || "";
      Object.keys(values || {}).forEach(function (key) {
        template = template.split("{" + key + "}").join(String(values[key]));
      });
      return template;
    }

    function query() {
      var params = new URLSearchParams();
      params.set("q", notes.value);
      form.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
        params.append(box.name, box.value);
      });
      return params;
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, DEBOUNCE_MS);
    }

    function setStatus(value, isError) {
      status.textContent = value;
      status.classList.toggle("error", Boolean(isError));
    }

    function search() {
      if (controller) {
        controller.abort();
      }
      if (!notes.value.trim()) {
        results.replaceChildren();
        setStatus(message("idle"), false);
        return;
      }
      controller = new AbortController();
      var mine = ++sequence;
      setStatus(message("searching"), false);
      results.setAttribute("aria-busy", "true");
      fetch("/console/search.json?" + query().toString(), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" },
        signal: controller.signal
      }).then(function (response) {
        if (response.status === 401) {
          throw new SignedOut();
        }
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      }).then(function (answer) {
        if (mine !== sequence) {
          return;
        }
        results.removeAttribute("aria-busy");
        if (!answer.ok) {
          results.replaceChildren();
          setStatus(answer.body && answer.body.error ? answer.body.error : message("failed"), true);
          return;
        }
        render(answer.body.parts || []);
      }).catch(function (error) {
        if (error && error.name === "AbortError") {
          return;
        }
        results.removeAttribute("aria-busy");
        setStatus(message(error instanceof SignedOut ? "signedOut" : "failed"), true);
      });
    }

    function SignedOut() {}

    function element(tag, className, content) {
      var node = document.createElement(tag);
      if (className) {
        node.className = className;
      }
      if (content !== undefined && content !== null) {
        node.textContent = content;
      }
      return node;
    }

    // One part per need in the notes: a single list for one need, a heading and a list per need for several.
    function render(parts) {
      results.replaceChildren();
      var count = parts.reduce(function (sum, part) { return sum + part.hits.length; }, 0);
      if (count === 0) {
        setStatus(message("none"), false);
        return;
      }
      if (parts.length > 1) {
        setStatus(message("foundParts", { count: parts.length }), false);
      } else {
        setStatus(count === 1 ? message("foundOne") : message("foundMany", { count: count }), false);
      }
      parts.forEach(function (part) {
        if (parts.length > 1) {
          var heading = element("li", "need-heading");
          heading.appendChild(element("h3", null, message("forNeed", { topic: part.topic })));
          results.appendChild(heading);
        }
        part.hits.forEach(function (hit) {
          results.appendChild(renderHit(hit));
        });
      });
    }

    function renderHit(hit) {
      var item = element("li", "hit card");
      item.dataset.entryId = hit.id;

      var heading = element("div", "hit-heading");
      var link = element("a", "hit-name", hit.name);
      link.href = "/console/entries/" + encodeURIComponent(hit.id);
      heading.appendChild(link);
      heading.appendChild(element("span", "badge badge-" + hit.type, message("type" + capitalise(hit.type)) || hit.type));
      heading.appendChild(element("span", "score", message("score") + " " + Number(hit.score).toFixed(2)));
      item.appendChild(heading);

      item.appendChild(element("p", "meta", hit.organisation + " · " + hit.site_label));
      if (hit.reason) {
        item.appendChild(element("blockquote", "why", hit.reason));
      }
      if (hit.terms && hit.terms.length) {
        item.appendChild(element("p", "terms", message("terms") + " " + hit.terms.join(", ")));
      }
      var details = hit.contact_details;
      if (details) {
        var contact = details.name + (details.role ? ", " + details.role : "") +
          (details.email ? " · " + details.email : "");
        item.appendChild(element("p", "contact", message("contact") + " " + contact));
      } else {
        item.appendChild(element("p", "contact muted", message("noContact")));
      }

      var label = element("label", "check add-to-request");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.value = hit.id;
      box.checked = chosen.has(hit.id);
      box.addEventListener("change", function () {
        if (box.checked) {
          chosen.set(hit.id, hit.name);
        } else {
          chosen.delete(hit.id);
        }
        showChosen();
      });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + message("add")));
      item.appendChild(label);
      return item;
    }

    function capitalise(value) {
      return value ? value.charAt(0).toUpperCase() + value.slice(1) : "";
    }

    function showChosen() {
      var names = Array.from(chosen.values());
      chosenSummary.textContent = names.length ? message("chosenSome", { names: names.join("; ") }) : message("chosenNone");
    }

    function openRequest() {
      var params = new URLSearchParams();
      if (chosen.size) {
        params.set("entries", Array.from(chosen.keys()).join(","));
      }
      if (notes.value.trim()) {
        params.set("need", notes.value.trim());
      }
      window.location.assign("/console/requests/new" + (params.toString() ? "?" + params.toString() : ""));
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      window.clearTimeout(timer);
      search();
    });
    notes.addEventListener("input", schedule);
    form.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      box.addEventListener("change", schedule);
    });
    openButton.addEventListener("click", openRequest);
    if (notes.value.trim()) {
      search();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
