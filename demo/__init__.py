"""The demo of the whole system, outside the product (like ``bench/``): the device side of the demo
community (an office process, an enrolled tablet and kiosk, recorded card videos), the screenshot
tooling and ``python -m demo`` (``make demo``). The office side, the community itself, is
``bank.demo`` (``python -m office demo`` builds it; the office may not import this package).
Nothing under bank/ sync/ device/ terminal/ kiosk/ office/ imports this package (an import
contract in pyproject.toml).
"""
