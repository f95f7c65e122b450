"""Analyse the example conversation with the Python API and print who talked how much.

Run from the repository root: ``python examples/analyze_example.py``
"""

from pathlib import Path

from listenkit import analyze_file

HERE = Path(__file__).resolve().parent


def main() -> None:
    session = analyze_file(HERE / "conversation.flac")
    print(f"{session.duration_s:.0f} s, {len(session.speakers)} speakers")
    for spk in session.speakers:
        name = spk.label or spk.id
        print(f"  {name}: {spk.talk_time_s:.1f} s ({spk.share:.0%})")
    counts = {}
    for event in session.events:
        counts[event.type] = counts.get(event.type, 0) + 1
    print("events:", counts)
    for line in session.feedback:
        print("-", line)


if __name__ == "__main__":
    main()
