"""Command line: ``dynacortex demo`` (more commands arrive with training and experiments)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="dynacortex: continuous-time dynamical models of the visual cortex.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """dynacortex command line."""


@app.command()
def demo(
    out: Path = typer.Option(Path("demo_output"), help="Folder for the figure."),
    dt: float = typer.Option(1.0, help="Integration step (ms)."),
    solver: str = typer.Option("rk4", help="euler, heun, rk4 or exp_euler."),
    duration: float = typer.Option(200.0, help="Simulated time (ms)."),
) -> None:
    """Simulate an untrained DyRCNNx4 on gratings and disks and plot each area's time course.

    Example: dynacortex demo --solver euler --dt 2
    """
    from .demo import run_demo

    png = run_demo(out, dt=dt, solver=solver, duration_ms=duration)
    typer.echo(f"wrote {png} and {png.with_suffix('.svg')}")


if __name__ == "__main__":
    app()
