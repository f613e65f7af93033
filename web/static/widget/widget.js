/*
 * Navigator chat widget loader.
 *
 * One tag embeds the widget on any page:
 *
 *   <script src="https://navigator.example.org/widget.js" data-socket-url="https://rasa.example.org"
 *           data-title="Navigator" defer></script>
 *
 * It loads the rasa-webchat bundle from its own origin and starts it with the tag's data attributes
 * (documented in docs/widget.md). The server writes its defaults into the two placeholders below.
 *
 * It also guards the widget's links: rasa-webchat renders bot messages as Markdown with its URL filter
 * turned off, so a link could carry any scheme. Links inside the widget keep their href only for http,
 * https and mailto; any other link loses its href and cannot be followed.
 */
(function () {
  "use strict";

  var DEFAULT_SOCKET_URL = "__NAVIGATOR_SOCKET_URL__";
  var BUNDLE_PATH = "__NAVIGATOR_BUNDLE_PATH__";
  var SAFE_PROTOCOLS = ["http:", "https:", "mailto:"];
  var COLOR = /^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/;
  var ROOT_ID = "navigator-chat";

  function fail(message) {
    if (window.console) {
      window.console.error("Navigator widget: " + message);
    }
  }

  function ownScriptTag() {
    if (document.currentScript) {
      return document.currentScript;
    }
    var tags = document.querySelectorAll("script[src]");
    for (var i = tags.length - 1; i >= 0; i -= 1) {
      if (/\/widget\.js(\?|#|$)/.test(tags[i].src)) {
        return tags[i];
      }
    }
    return null;
  }

  function httpUrl(value) {
    try {
      var url = new URL(value, window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href.replace(/\/$/, "") : null;
    } catch (error) {
      return null;
    }
  }

  /* The widget's own words in the languages the assistant speaks; a page in another language gets English. */
  var TEXTS = {
    en: { placeholder: "Describe what your company needs...", connecting: "Connecting to Navigator..." },
    sv: { placeholder: "Beskriv vad ditt företag behöver...", connecting: "Ansluter till Navigator..." }
  };

  /* data-lang, else the page's own lang, else English: the assistant answers in it until the user writes. */
  function language(data) {
    var lang = data.lang || data.language || document.documentElement.lang || "en";
    return lang.split("-")[0].toLowerCase();
  }

  function texts(data) {
    return TEXTS[language(data)] || TEXTS.en;
  }

  /* A short pause before each bot message, so that a list of results arrives readably but without waiting. */
  function messageDelay(message) {
    return Math.min(800, Math.max(200, (message || "").length * 4));
  }

  function widgetOptions(data, socketUrl) {
    var color = COLOR.test(data.color || "") ? data.color : "";
    return {
      socketUrl: socketUrl,
      socketPath: data.socketPath || "/socket.io/",
      title: data.title || "Navigator",
      subtitle: data.subtitle || null,
      initPayload: data.initPayload || "/greet",
      inputTextFieldHint: data.placeholder || texts(data).placeholder,
      connectingText: texts(data).connecting,
      customData: { language: language(data) },
      params: { storage: data.storage === "session" ? "session" : "local" },
      mainColor: color,
      userBackgroundColor: color,
      hideWhenNotConnected: true,
      connectOn: "mount",
      withRules: false,
      docViewer: false,
      showFullScreenButton: false,
      displayUnreadCount: false,
      showMessageDate: false,
      customMessageDelay: messageDelay
    };
  }

  function isSafeHref(href) {
    try {
      return SAFE_PROTOCOLS.indexOf(new URL(href, window.location.href).protocol) !== -1;
    } catch (error) {
      return false;
    }
  }

  function disarmLinks(root) {
    var links = root.querySelectorAll("a[href]");
    for (var i = 0; i < links.length; i += 1) {
      if (!isSafeHref(links[i].getAttribute("href"))) {
        links[i].removeAttribute("href");
        links[i].setAttribute("data-blocked-link", "");
      }
    }
  }

  function guardLinks(root) {
    new MutationObserver(function () {
      disarmLinks(root);
    }).observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ["href"] });
    // A second line: a click on an unsafe link that slipped through is cancelled before it navigates.
    root.addEventListener("click", function (event) {
      var link = event.target && event.target.closest ? event.target.closest("a[href]") : null;
      if (link && !isSafeHref(link.getAttribute("href"))) {
        event.preventDefault();
        event.stopPropagation();
        link.removeAttribute("href");
      }
    }, true);
  }

  function open(root) {
    if (!root.querySelector(".rw-conversation-container")) {
      var launcher = root.querySelector(".rw-launcher");
      if (launcher) {
        launcher.click();
      }
    }
  }

  function start(tag) {
    var data = tag.dataset;
    var socketUrl = httpUrl(data.socketUrl || DEFAULT_SOCKET_URL);
    if (!socketUrl) {
      fail("data-socket-url must be an http:// or https:// URL, got '" + (data.socketUrl || "") + "'");
      return;
    }
    var root = document.createElement("div");
    root.id = ROOT_ID;
    document.body.appendChild(root);
    guardLinks(root);
    window.NavigatorWidget = { open: function () { open(root); } };

    var bundle = document.createElement("script");
    bundle.src = new URL(BUNDLE_PATH, tag.src).href;
    bundle.async = true;
    bundle.onload = function () {
      if (!window.WebChat || typeof window.WebChat.default !== "function") {
        fail(bundle.src + " did not define window.WebChat");
        return;
      }
      window.WebChat.default(widgetOptions(data, socketUrl), root);
    };
    bundle.onerror = function () {
      fail("could not load " + bundle.src);
    };
    document.head.appendChild(bundle);
  }

  var tag = ownScriptTag();
  if (!tag) {
    fail("cannot find its own script tag");
  } else if (document.getElementById(ROOT_ID)) {
    fail("the widget is already on this page");
  } else if (document.body) {
    start(tag);
  } else {
    document.addEventListener("DOMContentLoaded", function () { start(tag); });
  }
}());
