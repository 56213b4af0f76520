"""Signing in and out, the growing wait after wrong passwords, CSRF, and changing one's own password."""

from __future__ import annotations

from collections.abc import Callable

from conftest import PASSWORD, Browser


def test_sign_in_then_the_account_page_shows_who_and_the_role(
    browser: Callable[[str | None], Browser],
) -> None:
    person = browser("officer")
    page = person.get("/tai-khoan")
    assert page.status_code == 200
    assert "Nguyễn Thị Lan" in page.text and "công chức viết tin" in page.text


def test_signed_out_is_sent_to_sign_in_with_the_page_to_return_to(
    browser: Callable[[str | None], Browser],
) -> None:
    answer = browser(None).get("/tai-khoan", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/dang-nhap?next=/tai-khoan"


def test_wrong_passwords_grow_a_wait_and_say_so_beside_the_field(
    browser: Callable[[str | None], Browser],
) -> None:
    person = browser(None)
    person.get("/dang-nhap")
    for _ in range(3):
        answer = person.post("/dang-nhap", {"name": "lan", "password": "sai"})
        assert answer.status_code == 400 and 'class="field-error"' in answer.text
    assert "Chờ 2 giây" in answer.text
    answer = person.post("/dang-nhap", {"name": "lan", "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 400 and "Đã nhập sai 3 lần" in answer.text  # even the right one waits


def test_a_form_without_its_token_is_refused(browser: Callable[[str | None], Browser]) -> None:
    person = browser(None)
    person.get("/dang-nhap")
    answer = person.client.post(
        "/dang-nhap", data={"name": "lan", "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 403 and "Tải lại trang" in answer.text
    assert "bc_session" not in answer.cookies


def test_session_cookie_is_http_only_and_same_site(browser: Callable[[str | None], Browser]) -> None:
    person = browser(None)
    person.get("/dang-nhap")
    answer = person.post("/dang-nhap", {"name": "lan", "password": PASSWORD}, follow_redirects=False)
    cookie = answer.headers["set-cookie"].lower()
    assert "bc_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_change_own_password_checks_the_old_one_and_signs_out(
    browser: Callable[[str | None], Browser],
) -> None:
    person = browser("officer")
    person.get("/tai-khoan")
    wrong = person.post(
        "/tai-khoan/mat-khau", {"old": "sai", "new": "mat-khau-moi-1", "again": "mat-khau-moi-1"}
    )
    assert wrong.status_code == 400 and "Mật khẩu hiện tại không đúng" in wrong.text
    person.get("/tai-khoan")
    done = person.post(
        "/tai-khoan/mat-khau",
        {"old": PASSWORD, "new": "mat-khau-moi-1", "again": "mat-khau-moi-1"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/dang-nhap"
    again = browser(None)
    again.sign_in("lan", "mat-khau-moi-1")


def test_unknown_page_is_a_vietnamese_404(browser: Callable[[str | None], Browser]) -> None:
    answer = browser("officer").get("/khong-co-trang-nay")
    assert answer.status_code == 404 and "Không tìm thấy" in answer.text
