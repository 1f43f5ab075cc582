"use strict";
// The page: pick a model, send photos or webcam frames to the API, show each answer; teach a model new classes.

const CAMERA_EVERY_MS = 400;
const BURST_EVERY_MS = 250;
const POLL_EVERY_MS = 500;
const $ = (id) => document.getElementById(id);
let models = [];
let camera = null;
let teach = { session: null, classes: {}, runs: [], base: null };
let capturing = null;

function current() {
  return models.find((m) => m.key === $("model").value);
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function percent(p) {
  return (100 * p).toFixed(1) + "%";
}

function describe(model) {
  const title = model.opens_door_on ? "The Happy House door" : `${model.name}: which class each photo shows`;
  $("title").textContent = title;
  document.title = `cnnapp: ${title}`;
  const accuracy = model.test_accuracy == null ? "not measured" : percent(model.test_accuracy);
  const measured = model.accuracy_of ? `accuracy ${accuracy} ${model.accuracy_of}` : `test accuracy ${accuracy}`;
  const classes = model.classes.join(", ");
  $("model-info").textContent = `${model.model} on ${model.data}: ${classes}; ${measured}; ${model.engine}`;
  $("downloads").hidden = !model.downloads;
  if (model.downloads) {
    $("download-zip").href = model.downloads.zip;
    $("download-onnx").href = model.downloads.onnx;
  }
  if (!model.predict_url) teach.base = model.name;
  $("train").textContent = `Train from ${teach.base}`;
  $("examples").replaceChildren(...model.examples.map(exampleButton));
  $("examples-credit").textContent = model.examples.length
    ? `Example photos to try, ${model.examples_credit}.`
    : "";
}

function exampleButton(example) {
  const button = element("button", "example");
  button.type = "button";
  button.dataset.label = example.label;
  button.title = `${example.name}, a photo of ${example.label}`;
  const img = element("img");
  img.src = example.url;
  img.alt = `example photo of ${example.label}`;
  button.append(img, element("span", null, example.label));
  button.addEventListener("click", async () => {
    const blob = await (await fetch(example.url)).blob();
    predictFiles([new File([blob], example.name, { type: blob.type })]);
  });
  return button;
}

function opens(model, row) {
  return row.label === model.opens_door_on;
}

function card(model, row) {
  const node = element("article", "card");
  node.dataset.path = row.path;
  if (row.error) {
    node.classList.add("error");
    node.append(element("div", "name", row.path), element("div", "message", row.error));
    return node;
  }
  const top = element("div", "top");
  if (row.picture) {
    const img = element("img");
    img.src = row.picture;
    img.alt = "the 64x64 picture the model saw";
    top.append(img);
  }
  const text = element("div");
  text.append(element("div", "name", row.path), element("div", "label", row.label));
  text.append(element("div", "probability", percent(row.probability)));
  for (const what of ["face", "hand"]) {
    if (what in row) {
      text.append(element("div", "found " + (row[what] ? "yes" : "no"), row[what] ? `${what} found` : `no ${what} found`));
    }
  }
  if (model.opens_door_on) {
    const open = opens(model, row);
    text.append(element("div", "verdict " + (open ? "open" : "shut"), open ? "door opens" : "door stays shut"));
  }
  top.append(text);
  node.append(top);
  const bars = element("div", "bars");
  for (const [name, p] of Object.entries(row.probabilities)) {
    const bar = element("div", name === row.label ? "bar best" : "bar");
    bar.dataset.class = name;
    bar.dataset.probability = p;
    const track = element("div", "track");
    const fill = element("div", "fill");
    fill.style.width = percent(p);
    track.append(fill);
    bar.append(element("span", "class", name), track, element("span", "value", percent(p)));
    bars.append(bar);
  }
  node.append(bars);
  return node;
}

function showDoor(model, rows) {
  const door = $("door");
  const answered = rows.filter((row) => !row.error);
  if (!model.opens_door_on || answered.length === 0) {
    door.hidden = true;
    return;
  }
  const open = answered.filter((row) => opens(model, row)).length;
  door.hidden = false;
  if (open === 0) {
    door.className = "door shut";
    door.textContent = "The door stays shut. Smile!";
  } else if (open === answered.length) {
    door.className = "door open";
    door.textContent = "Welcome! The door opens.";
  } else {
    door.className = "door mixed";
    door.textContent = `The door opens for ${open} of ${answered.length} photos.`;
  }
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function summary(model, rows) {
  const errors = rows.filter((row) => row.error).length;
  const answered = rows.length - errors;
  if (answered === 0) return `${model.name} could not read ${plural(errors, "photo")}`;
  const read = `${model.name} answered ${plural(answered, "photo")}`;
  return errors ? `${read}; ${plural(errors, "photo")} could not be read` : read;
}

function show(model, rows) {
  $("results").replaceChildren(...rows.map((row) => card(model, row)));
  showDoor(model, rows);
}

async function send(files) {
  const model = current();
  const form = new FormData();
  for (const file of files) form.append("photos", file, file.name);
  const url = model.predict_url || `/api/models/${encodeURIComponent(model.name)}/predict`;
  const response = await fetch(`${url}?picture=true`, {
    method: "POST",
    body: form,
  });
  const body = await response.json();
  if (response.ok) return { model, rows: body };
  if (body.results) return { model, rows: body.results };
  throw new Error(body.detail || `${response.status} ${response.statusText}`);
}

async function predictFiles(files) {
  if (files.length === 0) return;
  $("status").textContent = `asking ${current().name} about ${files.length} photo(s) ...`;
  try {
    const { model, rows } = await send(files);
    show(model, rows);
    $("status").textContent = summary(model, rows);
  } catch (error) {
    $("status").textContent = "error: " + error.message;
  }
}

function frame(video) {
  const side = Math.min(video.videoWidth, video.videoHeight);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = Math.min(side, 256);
  const x = (video.videoWidth - side) / 2;
  const y = (video.videoHeight - side) / 2;
  canvas.getContext("2d").drawImage(video, x, y, side, side, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob((blob) => resolve(new File([blob], "webcam.jpg")), "image/jpeg", 0.9));
}

async function cameraLoop(session) {
  const video = $("video");
  while (camera === session) {
    const started = performance.now();
    if (video.videoWidth > 0) {
      try {
        const { model, rows } = await send([await frame(video)]);
        if (camera === session) show(model, rows);
      } catch (error) {
        $("status").textContent = "error: " + error.message;
      }
    }
    await new Promise((r) => setTimeout(r, Math.max(0, CAMERA_EVERY_MS - (performance.now() - started))));
  }
}

async function toggleCamera() {
  const video = $("video");
  if (camera) {
    camera.getTracks().forEach((track) => track.stop());
    camera = null;
    video.hidden = true;
    $("camera").textContent = "Start the webcam";
    $("status").textContent = "webcam stopped";
    return;
  }
  if (!navigator.mediaDevices) {
    $("status").textContent = "no webcam here: the browser allows it only on https or localhost";
    return;
  }
  try {
    camera = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false });
  } catch (error) {
    $("status").textContent = "webcam refused: " + error.message;
    return;
  }
  video.srcObject = camera;
  video.hidden = false;
  $("camera").textContent = "Stop the webcam";
  $("status").textContent = `webcam on: a frame every ${CAMERA_EVERY_MS} ms`;
  cameraLoop(camera);
}

async function startCamera() {
  if (!camera) await toggleCamera();
  const video = $("video");
  while (camera && video.videoWidth === 0) await new Promise((r) => setTimeout(r, 50));
  return camera !== null;
}

// Teaching: a session of named classes of photos on the server, trained into runs that answer here.

async function api(path, options = {}) {
  const response = await fetch(`/api/teach${path}`, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || `${response.status} ${response.statusText}`);
  return body;
}

async function session() {
  if (!teach.session) {
    showTeach(await api("", { method: "POST" }));
    history.replaceState(null, "", `?session=${teach.session}`);
  }
  return teach.session;
}

function classPath(name) {
  return `/${teach.session}/classes/${encodeURIComponent(name)}`;
}

function showTeach(state) {
  teach.session = state.session;
  for (const [name, count] of Object.entries(state.classes)) teach.classes[name] = count;
  showClasses();
  for (const run of state.runs) if (!teach.runs.includes(run)) addRun(run);
  if (state.job) showJob(state.job);
}

function showClasses() {
  // Items are updated in place, so that a button held for a burst stays the same element.
  const items = new Map([...$("classes").children].map((item) => [item.dataset.class, item]));
  for (const [name, item] of items) if (!(name in teach.classes)) item.remove();
  for (const [name, count] of Object.entries(teach.classes)) {
    if (items.has(name)) items.get(name).querySelector(".count").textContent = plural(count, "photo");
    else $("classes").append(classItem(name, count));
  }
}

function classItem(name, count) {
  const item = element("li", "class");
  item.dataset.class = name;
  const burst = element("button", "button burst", "Hold to capture");
  burst.type = "button";
  burst.title = `hold for a burst of webcam photos of ${name}`;
  burst.addEventListener("pointerdown", (event) => {
    burst.setPointerCapture(event.pointerId);
    captureBurst(name);
  });
  for (const end of ["pointerup", "pointercancel", "lostpointercapture", "keyup", "blur"]) {
    burst.addEventListener(end, () => (capturing = null));
  }
  burst.addEventListener("keydown", (event) => {
    if ((event.key === " " || event.key === "Enter") && !event.repeat) {
      event.preventDefault();
      captureBurst(name);
    }
  });
  const add = element("label", "button add", "add photos");
  const input = element("input");
  input.type = "file";
  input.accept = "image/*";
  input.multiple = true;
  input.addEventListener("change", () => addPhotos(name, [...input.files]));
  add.append(input);
  const remove = element("button", "remove", "remove");
  remove.type = "button";
  remove.addEventListener("click", () => removeClass(name));
  item.append(element("span", "name", name), element("span", "count", plural(count, "photo")), burst, add, remove);
  item.addEventListener("dragover", (event) => event.preventDefault());
  item.addEventListener("drop", (event) => {
    event.preventDefault();
    addPhotos(name, [...event.dataTransfer.files]);
  });
  return item;
}

async function addPhotos(name, files) {
  if (files.length === 0) return;
  try {
    await session();
    const form = new FormData();
    for (const file of files) form.append("photos", file, file.name);
    showTeach(await api(`${classPath(name)}/photos`, { method: "POST", body: form }));
  } catch (error) {
    $("teach-status").textContent = "error: " + error.message;
  }
}

async function captureBurst(name) {
  capturing = name;
  $("teach").dataset.capturing = name;
  let n = 0;
  if (await startCamera()) {
    while (capturing === name || n === 0) {
      const started = performance.now();
      await addPhotos(name, [await frame($("video"))]);
      n += 1;
      $("teach-status").textContent = `captured ${plural(n, "photo")} of ${name}`;
      await new Promise((r) => setTimeout(r, Math.max(0, BURST_EVERY_MS - (performance.now() - started))));
    }
  }
  delete $("teach").dataset.capturing;
}

async function removeClass(name) {
  delete teach.classes[name];
  showClasses();
  if (!teach.session) return;
  try {
    showTeach(await api(classPath(name), { method: "DELETE" }));
  } catch (error) {
    $("teach-status").textContent = "error: " + error.message;
  }
}

async function addRun(run) {
  teach.runs.push(run);
  const model = await api(`/${teach.session}/runs/${run}`);
  model.key = `yours: ${run}`;
  models.push(model);
  $("model").append(element("option", null, model.key));
  return model;
}

function showJob(job) {
  const where = job.state === "done" ? "" : ` (${job.seconds.toFixed(0)} s)`;
  $("teach-status").textContent = `${job.run} from ${job.base}: ${job.message}${where}`;
  $("teach").dataset.job = job.state;
}

function underway(job) {
  return job && (job.state === "waiting" || job.state === "running");
}

async function train() {
  try {
    await session();
    await follow(await api(`/${teach.session}/train?base=${encodeURIComponent(teach.base)}`, { method: "POST" }));
  } catch (error) {
    $("teach-status").textContent = "error: " + error.message;
  }
}

async function follow(state) {
  // Poll the training until it ends, then answer with its run.
  const run = state.job.run;
  while (underway(state.job)) {
    showJob(state.job);
    await new Promise((r) => setTimeout(r, POLL_EVERY_MS));
    state = await api(`/${teach.session}`);
  }
  showTeach(state);
  if (state.job.state === "done") {
    while (!models.some((m) => m.name === run && m.predict_url)) await new Promise((r) => setTimeout(r, 50));
    $("model").value = `yours: ${run}`;
    describe(current());
    $("results").replaceChildren();
  }
}

async function startTeach() {
  const asked = new URLSearchParams(location.search).get("session");
  if (asked) {
    try {
      const state = await api(`/${encodeURIComponent(asked)}`);
      showTeach(state);
      if (underway(state.job)) {
        follow(state).catch((error) => ($("teach-status").textContent = "error: " + error.message));
      }
    } catch (error) {
      history.replaceState(null, "", location.pathname);
      $("teach-status").textContent = "that session is gone; a new one starts with your first photo";
    }
  }
  $("new-class").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("class-name").value.trim();
    if (!name || name in teach.classes) return;
    teach.classes[name] = 0;
    showClasses();
    $("class-name").value = "";
  });
  $("train").addEventListener("click", train);
}

async function start() {
  const response = await fetch("/api/models");
  models = await response.json();
  for (const model of models) {
    model.key = model.name;
    $("model").append(element("option", null, model.key));
  }
  $("model").value = models[0].key;
  describe(models[0]);
  $("model").addEventListener("change", () => {
    describe(current());
    $("results").replaceChildren();
    $("door").hidden = true;
  });
  $("files").addEventListener("change", (event) => predictFiles([...event.target.files]));
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    predictFiles([...event.dataTransfer.files]);
  });
  $("camera").addEventListener("click", toggleCamera);
  await startTeach();
  document.body.dataset.ready = "true";
}

start();
