"""The leaf categories the demo world must fill (issue "Demo world and real data")."""

from __future__ import annotations

REQUIRED = (
    "shoes/running",
    "shoes/trail-running",
    "shoes/casual",
    "apparel/jackets/down",
    "apparel/jackets/rain",
    "apparel/socks",
    "beauty/skincare",
    "beauty/makeup",
    "beauty/shavers-razors",
    "electronics/headphones",
    "electronics/phones",
    "electronics/phone-cases",
    "electronics/laptops",
    "electronics/laptop-bags",
    "home/cookware",
    "home/kitchen-knives",
    "home/coffee-makers",
    "grocery/snacks",
    "grocery/coffee-tea",
    "grocery/beverages",
    "baby/diapers",
    "baby/care",
    "toys/ages-3-10",
    "sports/yoga-mats",
    "outdoor/picnic-camping",
    "gifts/gift-sets",
)
