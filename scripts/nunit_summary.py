#!/usr/bin/env python3
"""Prints nunit-console's result file (NUnit 2.6 TestResult.xml) as one line "N passed, M failed",
the closing line scripts/test reads; exits 1 when a test failed or none ran."""
import argparse
import sys
import xml.etree.ElementTree as ET

ap = argparse.ArgumentParser(prog="scripts/nunit_summary.py", description=__doc__)
ap.add_argument("result", metavar="TestResult.xml", help="nunit-console's result file (-xml=...)")
root = ET.parse(ap.parse_args().result).getroot()
total = int(root.get("total", "0"))
failed = int(root.get("failures", "0")) + int(root.get("errors", "0"))
for case in root.iter("test-case"):
    if case.get("executed") == "True" and case.get("success") != "True":
        print(f"FAIL {case.get('name')}")
passed = total - failed
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or total == 0 else 0)
