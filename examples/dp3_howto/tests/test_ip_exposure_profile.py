"""DP³'s how-to "Test a secondary module" (docs/howto/test-module.md, CESNET/dp3), its code
blocks unchanged: the "Basic pattern" class as given, the other snippets as test methods."""

from unittest.mock import patch

from dp3.testing import DP3ModuleTestCase
from modules.ip_exposure_profile import IPExposureProfile


class TestIPExposureProfile(DP3ModuleTestCase):
    module_class = IPExposureProfile

    def test_open_port_creates_service_and_link(self):
        dp = self.make_observation_datapoint("ip", "192.0.2.1", "open_ports", 443)

        tasks = self.run_on_new_attr("ip", "open_ports", "192.0.2.1", dp)

        self.assertDatapoint(tasks, etype="service", eid="192.0.2.1:443", attr="guessed_type")
        self.assertDatapoint(tasks, etype="ip", eid="192.0.2.1", attr="services")

    def test_updater_uses_mocked_external_lookup(self):
        with patch.object(self.module, "_fetch_service_intel", return_value={"risk": "high"}):
            tasks = self.run_periodic_update(
                "service",
                "192.0.2.1:443",
                {"eid": "192.0.2.1:443", "guessed_type": {"v": "https"}},
                hook_id="service_intel",
            )

        self.assertDatapoint(tasks, attr="external_risk", v="high")


class TestHowtoSnippets(DP3ModuleTestCase):
    module_class = IPExposureProfile

    def test_datapoint_helpers(self):
        plain = self.make_plain_datapoint("ip", "192.0.2.1", "hostname", "host.example")
        observation = self.make_observation_datapoint("ip", "192.0.2.1", "open_ports", 443)
        timeseries = self.make_timeseries_datapoint(
            "ip",
            "192.0.2.1",
            "traffic",
            {"packets": [1, 2, 3], "bytes": [100, 200, 300]},
        )
        self.assertEqual("host.example", plain.v)
        self.assertEqual(observation.t1, observation.t2)
        self.assertEqual([100, 200, 300], timeseries.v.bytes)

    def test_assertions(self):
        tasks = [self.make_task("ip", "192.0.2.1", [{"attr": "hostname", "v": "example.test"}])]
        record = {"eid": "192.0.2.1:443", "external_risk": "high"}
        before = dict(record)
        after = dict(record)
        self.assertDatapoint(tasks, etype="ip", attr="hostname", v="example.test")
        self.assertTaskEmitted(tasks, etype="ip", eid="192.0.2.1")
        self.assertNoTasks(self.run_correlation_hooks("service", record))
        self.assertNoDatapoints([])
        self.assertRecordContains(record, exposure_score=10)
        self.assertRecordAttr(record, "exposure_score", 10)
        self.assertRecordUnchanged(before, after)

    def test_registration_assertions(self):
        expected_service_attrs = ["guessed_type"]
        self.assert_registered("on_new_attr", entity="ip", attr="open_ports")
        self.assert_registered_once("correlation", entity_type="service")
        self.assert_registered_attrs("service", expected_service_attrs)
        self.assert_scheduler_registered(func="reload_ip_groups", minute="*/10")
