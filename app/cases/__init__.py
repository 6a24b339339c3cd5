"""Cases: consented, encrypted records of the people supported, their needs and consents."""
