from pipeline.errors import report
from pipeline.site import main

report(main)
