"""Named helpers over the public HTTP API, as a client (a browser, a test, Locust) would use it."""

import re
import uuid

import requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the stack's self-signed certificate

SEED_USERS = {
    "max": ("maxmustermann@gmail.com", "maxmustermann"),
    "gabi": ("gabimusterfrau@gmail.com", "gabimusterfrau"),
    "erika": ("erikatest@gmail.com", "erikatest"),
}
SEED_IBANS = {"max": "AT961000100000000001", "gabi": "AT691000100000000002", "erika": "AT421000100000000003",
              "interspar": "AT151000100000000004"}


def new_session() -> requests.Session:
    session = requests.Session()
    session.verify = False
    session.trust_env = False  # REQUESTS_CA_BUNDLE in this environment would override verify=False
    return session


class ApiClient:
    def __init__(self, base_url: str, session: requests.Session | None = None):
        self.base = base_url.rstrip("/")
        self.http = session or new_session()

    def request(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"JWT {token}"
        return self.http.request(method, self.base + path, headers=headers, timeout=15, **kwargs)

    def get(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        return self.request("GET", path, token, **kwargs)

    def post(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        return self.request("POST", path, token, **kwargs)

    def login(self, email: str, password: str) -> str:
        response = self.post("/auth", json={"username": email, "password": password})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def login_seed(self, who: str) -> str:
        return self.login(*SEED_USERS[who])

    def create_transfer(self, token: str, iban: str, amount: str, name: str = "Recipient", key: str | None = None,
                        **extra) -> requests.Response:
        body = {"recipientIban": iban, "recipientName": name, "amount": amount, **extra}
        return self.post("/api/transfers", token, json=body,
                         headers={"Idempotency-Key": key or str(uuid.uuid4())})

    def tan_for(self, token: str, transfer_id: int) -> str:
        """The mTAN of a transfer, read from the demo phone's outbox as the customer would."""
        messages = self.get("/api/demo/sms", token).json()["messages"]
        for message in messages:
            if f"transfer #{transfer_id} " in message["body"]:
                return re.search(r"mTAN (\d{6})", message["body"]).group(1)
        raise AssertionError(f"no mTAN SMS for transfer {transfer_id}: {messages}")

    def confirm(self, token: str, transfer_id: int, tan: str) -> requests.Response:
        return self.post(f"/api/transfers/{transfer_id}/confirm", token, json={"tan": tan})

    def send_money(self, token: str, iban: str, amount: str, name: str = "Recipient", **extra) -> dict:
        """The whole flow: create, read the mTAN from the demo phone, confirm; returns the booked transfer."""
        created = self.create_transfer(token, iban, amount, name, **extra)
        assert created.status_code == 201, created.text
        transfer_id = created.json()["id"]
        confirmed = self.confirm(token, transfer_id, self.tan_for(token, transfer_id))
        assert confirmed.status_code == 200, confirmed.text
        return confirmed.json()
