// Balade console maps (progressive enhancement: every page works without this script).
// A <div class="map" data-markers='[{"lat":..,"lon":..,"label":"..","href":".."}]' data-tiles="URL">
// becomes a Leaflet map; without a tile URL the map stays blank but the markers still show.
// data-drag="FORM_ID" makes the single marker draggable and writes lat/lon into that form.
(function () {
  if (typeof L === "undefined") return;
  document.querySelectorAll("div.map[data-markers]").forEach(function (el) {
    var markers = [];
    try { markers = JSON.parse(el.getAttribute("data-markers") || "[]"); } catch (e) { return; }
    var map = L.map(el, { preferCanvas: markers.length > 500 });
    var tiles = el.getAttribute("data-tiles");
    if (tiles) L.tileLayer(tiles, { maxZoom: 19, attribution: el.getAttribute("data-attribution") || "" }).addTo(map);
    var bounds = [];
    var dragForm = el.getAttribute("data-drag");
    markers.forEach(function (m) {
      var ll = [m.lat, m.lon];
      bounds.push(ll);
      var layer;
      if (dragForm) {
        layer = L.marker(ll, { draggable: true }).addTo(map);
        layer.on("dragend", function () {
          var p = layer.getLatLng();
          var form = document.getElementById(dragForm);
          if (!form) return;
          form.querySelector("[name=lat]").value = p.lat.toFixed(6);
          form.querySelector("[name=lon]").value = p.lng.toFixed(6);
          form.classList.add("changed");
        });
      } else {
        layer = L.circleMarker(ll, { radius: 6, weight: 1, color: m.overdue ? "#b3261e" : "#0b5cad", fillOpacity: 0.8 }).addTo(map);
      }
      if (m.label) {
        var div = document.createElement("div");
        if (m.href) { var a = document.createElement("a"); a.href = m.href; a.textContent = m.label; div.appendChild(a); }
        else { div.textContent = m.label; }
        layer.bindPopup(div);
      }
    });
    if (bounds.length === 1) map.setView(bounds[0], 17);
    else if (bounds.length > 1) map.fitBounds(bounds, { padding: [20, 20] });
    else map.setView([46.16, -1.15], 13);
    el.setAttribute("data-ready", String(markers.length));
  });
})();
