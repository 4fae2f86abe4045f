from imr_ml.cli import main

main()
