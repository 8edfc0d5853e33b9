"""Write the next episodes of a project.

    python -m factory.pipeline --project Pilot --episodes 1
"""

import argparse
import os
import pathlib

import requests
import yaml


def load_config(path="config.yaml"):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def draft(config, project, number):
    """Ask the model for episode `number` of `project` and return its Markdown."""
    resp = requests.post(
        "https://api.openai.com/v1/responses",
        headers={"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]},
        json={"model": config["model"], "input": f"{project} 제{number}화를 써 주세요."},
        timeout=300,
    )
    resp.raise_for_status()
    return resp.json()["output_text"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True)
    parser.add_argument("--episodes", type=int, default=1)
    args = parser.parse_args()
    config = load_config()
    folder = pathlib.Path(config["projects_dir"], args.project, "episodes")
    folder.mkdir(parents=True, exist_ok=True)
    start = len(list(folder.glob("*.md"))) + 1
    for number in range(start, start + args.episodes):
        text = draft(config, args.project, number)
        (folder / f"{number:03d}.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
