import cProfile
import io
import pstats

from mes.fhir.tests.mhd_fixtures import document, provide_bundle


def test_prof(fhir_client_for, dr_martin, camille, settings):
    api = fhir_client_for(dr_martin)
    for _ in range(25):
        assert api.post("/fhir/", provide_bundle(camille, [document()])).status_code == 200
    bodies = [provide_bundle(camille, [document()]) for _ in range(60)]
    pr = cProfile.Profile()
    pr.enable()
    for _ in range(60):
        api.get("/fhir/DocumentReference", patient=str(camille.pk), status="current", _count=20)
    pr.disable()
    s = io.StringIO()
    pstats.Stats(pr, stream=s).sort_stats("cumulative").print_stats(70)
    print("SEARCH", s.getvalue())
    pr = cProfile.Profile()
    pr.enable()
    for b in bodies:
        api.post("/fhir/", b)
    pr.disable()
    s = io.StringIO()
    pstats.Stats(pr, stream=s).sort_stats("cumulative").print_stats(90)
    print("DEPOSIT", s.getvalue())
