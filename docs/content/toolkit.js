// The site's own behaviour, as one classic script (module scripts do not load from disk):
// the light/dark switch, search over the index build.fsx writes into search-index.js, and the
// F#/C# tabs that put each C# snippet beside the F# code it follows.
(function () {
    "use strict";
    const root = document.documentElement.getAttribute("data-root") || "";

    // ---- light or dark -------------------------------------------------------------------
    const store = {
        get: function (key) { try { return window.localStorage.getItem(key); } catch (e) { return null; } },
        set: function (key, value) { try { window.localStorage.setItem(key, value); } catch (e) { } }
    };
    const themeButton = document.getElementById("theme-toggle");
    if (themeButton) {
        themeButton.addEventListener("click", function () {
            const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
            const current = document.documentElement.getAttribute("data-theme") || (dark ? "dark" : "light");
            const next = current === "dark" ? "light" : "dark";
            document.documentElement.setAttribute("data-theme", next);
            store.set("theme", next);
        });
    }

    // ---- search ----------------------------------------------------------------------------
    const searchButton = document.getElementById("search-btn");
    const dialog = document.querySelector("dialog");
    const index = window.TOOLKIT_SEARCH_INDEX;
    if (searchButton && dialog && Array.isArray(index)) {
        const box = dialog.querySelector("input[type=search]");
        const list = dialog.querySelector("ul");
        const empty = dialog.querySelector(".empty");
        const open = function () { dialog.showModal(); box.focus(); };
        const close = function () { box.value = ""; list.replaceChildren(); empty.style.display = "block"; empty.textContent = "Type something to start searching."; dialog.close(); };
        // every word must occur; a word in the title counts most, then in headings, then in the text
        const search = function (text) {
            const words = text.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 1; });
            if (words.length === 0) return [];
            const hits = [];
            for (const entry of index) {
                let score = 0, all = true;
                for (const w of words) {
                    const s = (entry.title.includes(w) ? 10 : 0) + (entry.headings.includes(w) ? 3 : 0) + (entry.content.includes(w) ? 1 : 0);
                    if (s === 0) { all = false; break; }
                    score += s;
                }
                if (all) hits.push({ entry: entry, score: score });
            }
            hits.sort(function (a, b) { return b.score - a.score || a.entry.title.length - b.entry.title.length; });
            return hits.slice(0, 20);
        };
        box.addEventListener("input", function () {
            const hits = search(box.value);
            if (!box.value.trim()) { list.replaceChildren(); empty.style.display = "block"; empty.textContent = "Type something to start searching."; return; }
            if (hits.length === 0) { list.replaceChildren(); empty.style.display = "block"; empty.textContent = "Nothing found."; return; }
            empty.style.display = "none";
            list.replaceChildren.apply(list, hits.map(function (h) {
                const li = document.createElement("li");
                const a = document.createElement("a");
                a.href = root + h.entry.uri;
                a.textContent = h.entry.display;
                li.appendChild(a);
                return li;
            }));
        });
        searchButton.addEventListener("click", open);
        dialog.addEventListener("click", function (ev) { if (ev.target === dialog) close(); });
        window.addEventListener("keydown", function (ev) {
            if (ev.key === "Escape" && dialog.open) { ev.preventDefault(); close(); return; }
            const typing = document.activeElement && /^(INPUT|TEXTAREA)$/.test(document.activeElement.tagName);
            if (!dialog.open && ((ev.key === "/" && !typing) || (ev.key === "k" && (ev.ctrlKey || ev.metaKey)))) { ev.preventDefault(); open(); }
        });
    } else if (searchButton) {
        searchButton.style.display = "none";
    }

    // ---- F# and C# side by side --------------------------------------------------------------
    // A C# snippet directly after an F# code block becomes the second tab of a pair; the choice
    // holds for every pair on every page. Without this script both blocks simply show, labelled.
    const languageOf = function (block) {
        const code = block.matches("code[lang]") ? block : block.querySelector("code[lang]");
        return code ? code.getAttribute("lang") : null;
    };
    // what a literate page prints between code blocks: values, console output, pictures
    const isOutput = function (element) {
        return !/^(H[1-6]|P|UL|OL|BLOCKQUOTE|DIV)$/.test(element.tagName) && languageOf(element) === null;
    };
    const choose = function (lang) {
        document.querySelectorAll(".toolkit-tabs").forEach(function (tabs) {
            tabs.querySelectorAll(".toolkit-tab-button").forEach(function (b) { b.setAttribute("aria-selected", b.dataset.lang === lang ? "true" : "false"); });
            tabs.querySelectorAll(".toolkit-tab-panel").forEach(function (p) { p.hidden = p.dataset.lang !== lang; });
        });
        store.set("toolkit-language", lang);
    };
    // each C# block pairs with the F# code before it, over whatever that code printed; the
    // printed results then follow the pair, as they follow either language's code
    const pairs = [];
    document.querySelectorAll("#content > table.pre, #content > pre").forEach(function (csharp) {
        if (languageOf(csharp) !== "csharp") return;
        let fsharp = csharp.previousElementSibling;
        while (fsharp && isOutput(fsharp)) fsharp = fsharp.previousElementSibling;
        if (!fsharp || languageOf(fsharp) !== "fsharp") return;
        pairs.push([fsharp, csharp]);
    });
    pairs.forEach(function (pair) {
        const tabs = document.createElement("div");
        tabs.className = "toolkit-tabs";
        const bar = document.createElement("div");
        bar.className = "toolkit-tab-bar";
        bar.setAttribute("role", "tablist");
        tabs.appendChild(bar);
        pair[0].parentNode.insertBefore(tabs, pair[0]);
        [["fsharp", "F#", pair[0]], ["csharp", "C#", pair[1]]].forEach(function (t) {
            const button = document.createElement("button");
            button.type = "button";
            button.className = "toolkit-tab-button";
            button.setAttribute("role", "tab");
            button.dataset.lang = t[0];
            button.textContent = t[1];
            button.addEventListener("click", function () { choose(t[0]); });
            bar.appendChild(button);
            const panel = document.createElement("div");
            panel.className = "toolkit-tab-panel";
            panel.setAttribute("role", "tabpanel");
            panel.dataset.lang = t[0];
            panel.appendChild(t[2]);
            tabs.appendChild(panel);
        });
    });
    if (pairs.length > 0) choose(store.get("toolkit-language") === "csharp" ? "csharp" : "fsharp");
})();
