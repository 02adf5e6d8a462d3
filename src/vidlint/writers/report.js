/* vidlint clip page: j / k (or n / p) move to the next / previous finding, v plays or pauses
   its span, u goes back to the batch index. The page works without it. */
(function () {
  "use strict";
  var cards = Array.prototype.slice.call(document.querySelectorAll("article.finding"));
  var current = cards.findIndex(function (card) { return "#" + card.id === location.hash; });

  function go(step) {
    if (!cards.length) { return; }
    current = Math.max(0, Math.min(cards.length - 1, current < 0 && step < 0 ? 0 : current + step));
    var card = cards[current];
    location.replace("#" + card.id);  /* :target highlights it, without a history entry */
    card.focus({ preventScroll: true });
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) { return; }
    var target = event.target;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) { return; }
    var inside = target && target.closest ? target.closest("article.finding") : null;
    if (inside) { current = cards.indexOf(inside); }
    var key = event.key;
    if (key === "j" || key === "n") {
      go(1);
    } else if (key === "k" || key === "p") {
      go(-1);
    } else if (key === "v" && current >= 0) {
      var video = cards[current].querySelector("video");
      if (video) { if (video.paused) { video.play().catch(function () {}); } else { video.pause(); } }
    } else if (key === "u") {
      var back = document.querySelector("a.to-index");
      if (back) { location.href = back.href; }
      return;
    } else {
      return;
    }
    event.preventDefault();
  });
})();
