// What the process designer (designer.js) and the decision table editor (dmn.js)
// share: the draft kept in this browser (localStorage) until deployed or discarded,
// the server's check (the rules of a deploy) half a second after the last change,
// and the deploy and discard buttons. Each editor brings its own way to open a file,
// save it and show the problems found.

const CHECK_DELAY_MS = 500;

// `kind` names the draft ("designer", "decision"); `saveXML()` gives the editor's
// text; `open(xml)` loads one; `showProblems(problems)` marks and lists them and then
// calls `summarize(problems.length)`; `editingKey` is the text saying which version
// is being edited.
export function workbench({ data, container, kind, saveXML, open, showProblems, editingKey }) {
  const t = data.texts;
  const draftKey = `flowdesk.${kind}.${data.key}`;
  const status = document.getElementById("designer-status");
  const summary = document.getElementById("problems-summary");
  const deployButton = document.getElementById("designer-deploy");
  const discardButton = document.getElementById("designer-discard");

  // What the editor holds differs from the deployed version (a draft).
  let edited = false;
  let checks = 0;

  const say = (text, tone) => {
    status.textContent = text;
    status.className = tone || "";
  };

  const summarize = (count) => {
    if (count) {
      summary.textContent = t.designer_problems.replace("{n}", String(count));
      say(summary.textContent, "bad");
    } else {
      summary.textContent = t.designer_valid;
      say(t.designer_valid, "ok");
    }
    container.dataset.problems = String(count);
  };

  const readDraft = () => {
    try {
      const draft = JSON.parse(window.localStorage.getItem(draftKey) || "null");
      return draft && draft.base_version === data.version && draft.xml ? draft : null;
    } catch (err) {
      return null;
    }
  };
  const keepDraft = (xml) => {
    window.localStorage.setItem(draftKey, JSON.stringify({ base_version: data.version, xml }));
    discardButton.hidden = false;
  };
  const dropDraft = () => {
    window.localStorage.removeItem(draftKey);
    discardButton.hidden = true;
  };

  const post = (url, xml) =>
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      body: new URLSearchParams({ csrf_token: data.csrf, xml }),
    });

  // The text to check or deploy: the deployed text itself while nothing was edited,
  // so that deploying an untouched file says "unchanged".
  const currentXml = async () => (edited ? saveXML() : data.xml);

  // Only the newest check's answer is shown (an older one may come back later).
  let asked = 0;
  const check = async () => {
    const mine = ++asked;
    say(t.designer_checking);
    try {
      const answer = await post(data.validate_url, await currentXml());
      if (!answer.ok) throw new Error(String(answer.status));
      const result = await answer.json();
      if (mine !== asked) return;
      showProblems(result.problems);
    } catch (err) {
      if (mine === asked) say(t.designer_check_failed, "bad");
    }
    if (mine === asked) container.dataset.checks = String(++checks);
  };

  let timer = null;
  const changed = async () => {
    edited = true;
    keepDraft(await saveXML());
    window.clearTimeout(timer);
    timer = window.setTimeout(check, CHECK_DELAY_MS);
  };

  const deploy = async () => {
    deployButton.disabled = true;
    say(t.designer_deploying);
    try {
      const xml = await currentXml();
      const answer = await post(data.deploy_url, xml);
      const result = await answer.json();
      if (answer.status === 422) {
        showProblems(result.problems || []);
        say(t.designer_deploy_refused, "bad");
      } else if (answer.ok) {
        dropDraft();
        data.version = result.version;
        data.xml = xml;
        edited = false;
        say(result.message, "ok");
        container.dataset.deployed = String(result.version);
        document.getElementById("designer-editing").textContent = t[editingKey].replace(
          "{n}",
          String(result.version),
        );
      } else {
        say(t.designer_check_failed, "bad");
      }
    } catch (err) {
      say(t.designer_check_failed, "bad");
    } finally {
      deployButton.disabled = false;
    }
  };

  // Open the draft kept here, else the deployed version; check it; wire the buttons.
  const start = async () => {
    const draft = readDraft();
    try {
      await open(draft ? draft.xml : data.xml);
    } catch (err) {
      container.dataset.ready = "error";
      say(String(err && err.message ? err.message : err), "bad");
      return;
    }
    edited = Boolean(draft);
    discardButton.hidden = !draft;
    container.dataset.ready = "true";
    await check();
    if (draft) say(t.designer_draft_restored, "");

    discardButton.addEventListener("click", async () => {
      dropDraft();
      await open(data.xml);
      edited = false;
      await check();
      say(t.designer_draft_discarded, "");
    });
    deployButton.addEventListener("click", deploy);
  };

  return { changed, start, summarize };
}
