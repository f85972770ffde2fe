"""Money is integer fen (分) everywhere: storage, services, the wire. Yuan strings only at the edges."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from desktop_his.services.errors import ValidationError

FEN_PER_YUAN = 100
MAX_AMOUNT_FEN = 10_000_000_00  # 1,000 万元: no single amount in a hospital is larger


def parse_yuan(text: str | Decimal | int, *, field: str | None = None, allow_zero: bool = True) -> int:
    """``"12.5"`` → ``1250``. Rejects more than two decimals, negatives, and absurd amounts."""
    raw = str(text).strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    if not raw:
        raise ValidationError("请输入金额", field=field)
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ValidationError(f"金额格式不正确：{text}", field=field) from exc
    if not value.is_finite():
        raise ValidationError(f"金额格式不正确：{text}", field=field)
    if value < 0:
        raise ValidationError("金额不能为负数", field=field)
    if value * FEN_PER_YUAN > MAX_AMOUNT_FEN:
        raise ValidationError("金额过大，请核对", field=field)
    if value != value.quantize(Decimal("0.01")):
        raise ValidationError("金额最多两位小数（精确到分）", field=field)
    fen = int((value * FEN_PER_YUAN).to_integral_value())
    if fen == 0 and not allow_zero:
        raise ValidationError("金额必须大于零", field=field)
    return fen


def fen_to_decimal(fen: int) -> Decimal:
    return (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_fen(fen: int, *, symbol: bool = False) -> str:
    """``1250`` → ``"12.50"`` (or ``"¥12.50"``). Uses U+00A5 ¥, which the bundled font has."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), FEN_PER_YUAN)
    text = f"{sign}{whole:,}.{cents:02d}"
    return f"¥{text}" if symbol else text
