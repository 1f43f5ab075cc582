"use strict";
// The page: pick a model, send photos or webcam frames to the API, show each answer.

const CAMERA_EVERY_MS = 400;
const $ = (id) => document.getElementById(id);
let models = [];
let camera = null;

function current() {
  return models.find((m) => m.name === $("model").value);
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
  $("model-info").textContent =
    `${model.model} on ${model.data}: ${model.classes.join(", ")}; test accuracy ${accuracy}; ${model.engine}`;
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
  const response = await fetch(`/api/models/${encodeURIComponent(model.name)}/predict?picture=true`, {
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

async function start() {
  const response = await fetch("/api/models");
  models = await response.json();
  for (const model of models) $("model").append(element("option", null, model.name));
  $("model").value = models[0].name;
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
  document.body.dataset.ready = "true";
}

start();
