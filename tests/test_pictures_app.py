"""Pictures through the running app's API (/image, and /chat_details for a picture question),
with gradio_client over real HTTP, against the fake picture provider."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import handle_file

from support.apps import RunningApp
from support.keys import SERVER_KEY
from support.picture_server import picture_requests, png


@pytest.fixture(scope="module")
def picture_app(_pictures):
    running = RunningApp({"XAI_API_KEY": SERVER_KEY, "XAI_BASE_URL": _pictures.base_url})
    yield running
    running.close()


@pytest.fixture
def client(picture_app, pictures):
    return picture_app.client()


def test_image_returns_each_picture_as_a_file_with_its_prompt_and_cost(client, pictures):
    made = client.predict("a red square", "xai", None, 2, "16:9", None, None, api_name="/image")
    assert len(made) == 2
    for item in made:
        assert Path(item["image"]).read_bytes() == pictures.picture  # downloaded by the client
        assert item["revised_prompt"] == "A red square, flat colour"
        assert item["cost_usd"] == pytest.approx(0.02) and item["cost_source"] == "provider"
    (sent,) = picture_requests(pictures)
    assert sent["body"]["n"] == 2 and sent["body"]["aspect_ratio"] == "16:9"


def test_image_changes_a_given_picture(client, pictures, tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(png(24, 24, (0, 0, 255)))
    made = client.predict("make it red", None, None, 1, None, handle_file(str(photo)), None, api_name="/image")
    sent = picture_requests(pictures)[-1]
    assert sent["path"] == "/v1/images/edits" and sent["body"]["prompt"] == "make it red"
    assert sent["body"]["image"]["url"].startswith("data:image/png;base64,")
    assert len(made) == 1 and made[0]["revised_prompt"]


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (("", "xai", None, 1, None, None, None), "prompt"),
        (("x", "xai", None, 9, None, None, None), "n must be a whole number from 1 to 4"),
        (("x", "xai", None, 1, "21:9", None, None), "aspect_ratio"),
        (("x", "nobody", None, 1, None, None, None), "nobody"),
        (("x", "xai", None, 1, None, {"path": 3}, None), "image"),
    ],
)
def test_bad_arguments_are_refused_by_name_before_anything_is_sent(client, pictures, arguments, named):
    with pytest.raises(Exception, match=named):
        client.predict(*arguments, api_name="/image")
    assert picture_requests(pictures) == []


def test_chat_details_returns_the_pictures_of_a_picture_question(client, pictures):
    details = client.predict("/image a red square", api_name="/chat_details")
    (item,) = details["images"]
    assert Path(item["image"]).read_bytes() == pictures.picture
    assert details["answer"] == "A red square, flat colour" and details["cost_usd"] == pytest.approx(0.02)
    assert details["usage"]["tools"] == {} and details["model"] == "grok-imagine-image"
