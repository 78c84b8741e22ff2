"""What `make up` prints at the end: the test users' table lines up."""

from app.schema.seed import USERS
from stack import control
from stack.settings import Stack


def test_the_test_users_table_is_aligned(capsys):
    control.print_welcome(Stack.from_env({"PIGGY_RUN_DIR": "/tmp/piggybank-welcome-check"}))
    lines = capsys.readouterr().out.splitlines()
    start = lines.index("  Test users:") + 1
    table = lines[start:start + 1 + len(USERS)]
    header = table[0]
    columns = [header.index(title) for title in ("e-mail", "password", "IBAN")]
    for (first, last, email, password, *_, iban), line in zip(USERS, table[1:], strict=True):
        assert line.startswith(f"    {first} {last} ")
        assert [line.index(email), line.index(password, columns[1]), line.index(iban[:4])] == columns, line
        assert line.endswith(" ".join(iban[i:i + 4] for i in range(0, len(iban), 4)))
