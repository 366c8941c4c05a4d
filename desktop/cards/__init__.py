"""The main window's cards: the problem, the two key-point stages, the solution and the answer.

Each draws what a `desktop.session.TutorSession` holds; none decides anything about a solve.
"""
