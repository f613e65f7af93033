/* The demonstration website's own behaviour: its "Ask Navigator" buttons open the chat widget. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("[data-open-chat]") : null;
    if (button && window.NavigatorWidget) {
      window.NavigatorWidget.open();
    }
  });
}());
