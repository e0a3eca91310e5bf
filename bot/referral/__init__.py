"""Referrals: partners' links and QR posters, and coaches' personal invitations.

``codes.py`` (codes and links), ``poster.py`` (the QR code as PNG and SVG), ``cli.py``
(``opstap referral``), ``feature.py`` (the feature: ``/start <code>``, the invitation's consent,
``/uitnodigen``, where an intake came from). Storage: :mod:`storage.referral`.
"""
