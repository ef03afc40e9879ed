// The in-page document viewer (both portals): a PDF drawn page by page on canvases by pdf.js,
// vendored under static/vendor/pdfjs and served by the application itself (no CDN; CSP
// script-src 'self'). The PDF's own scripts never run (pdf.js does not execute them) and no
// string is ever evaluated (isEvalSupported: false).
//
// Markup: <div data-pdf-viewer data-src=… data-pdfjs=… data-worker=… data-fonts=… data-title=…>
//   <p data-pdf-status role="status">…</p><div data-pdf-pages></div></div>
const MAX_PAGES = 100;

async function show(root) {
  const status = root.querySelector("[data-pdf-status]");
  const pages = root.querySelector("[data-pdf-pages]");
  try {
    const pdfjs = await import(root.dataset.pdfjs);
    pdfjs.GlobalWorkerOptions.workerSrc = root.dataset.worker;
    const response = await fetch(root.dataset.src, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const data = new Uint8Array(await response.arrayBuffer());
    const pdf = await pdfjs.getDocument({
      data,
      isEvalSupported: false,
      enableXfa: false,
      standardFontDataUrl: root.dataset.fonts,
    }).promise;
    const count = Math.min(pdf.numPages, MAX_PAGES);
    // The pages scroll inside the card, so that the details and actions stay near; the region
    // is focusable so that the keyboard scrolls it too.
    pages.style.maxHeight = "80vh";
    pages.style.overflowY = "auto";
    pages.tabIndex = 0;
    pages.setAttribute("role", "region");
    pages.setAttribute("aria-label", `Pages du document ${root.dataset.title}`);
    const width = Math.max(pages.clientWidth - 20, 260); // room for the scroll bar
    const ratio = window.devicePixelRatio || 1;
    for (let n = 1; n <= count; n++) {
      const page = await pdf.getPage(n);
      const base = page.getViewport({ scale: 1 });
      const viewport = page.getViewport({ scale: (width / base.width) * ratio });
      const canvas = document.createElement("canvas");
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      canvas.className = "img-fluid d-block border mb-3";
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", `${root.dataset.title}, page ${n} sur ${pdf.numPages}`);
      pages.appendChild(canvas);
      await page.render({ canvasContext: canvas.getContext("2d"), viewport, canvas }).promise;
    }
    status.textContent = pdf.numPages > count
      ? `Aperçu des ${count} premières pages sur ${pdf.numPages} : téléchargez le document pour le lire en entier.`
      : `${pdf.numPages} page${pdf.numPages > 1 ? "s" : ""}.`;
    root.dataset.state = "shown";
  } catch (error) {
    status.textContent = "L'aperçu n'a pas pu être affiché : téléchargez le document pour le lire.";
    root.dataset.state = "failed";
  }
}

document.querySelectorAll("[data-pdf-viewer]").forEach((root) => { show(root); });
